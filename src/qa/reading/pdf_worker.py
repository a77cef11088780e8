"""The part of reading a PDF that runs PDFium, in a child process with its own limits.

Run by qa.reading.pdf as `python -I pdf_worker.py MEMORY_BYTES CPU_SECONDS MAX_PAGES MAX_CHARS MAX_INFLATED`
with the PDF's bytes on standard input. It imports nothing of qa (only the standard library and
pypdfium2), caps its own address space and CPU time (CPU_SECONDS) before PDFium is loaded, lowers the
CPU cap to CPU_BASE + CPU_PER_PAGE a page once it knows the pages, and writes JSON lines:

    {"pages": N}                                          then one line a page:
    {"w": width, "h": height, "o": objects, "f": [[text, left, bottom, right, top, size, bold], ...]}
    {"end": true, "chars": total}                         or, at any point, {"error": KIND, ...}

A fragment ("f") is a run of characters on one line with no wide gap inside (PDFium's own line breaks,
and gaps over GAP_EM em, such as a column gutter, end it); its box is in PDF points, origin bottom left.
Errors: "password", "format" (not readable as a PDF), "inflated" (a compressed stream expands beyond
MAX_INFLATED bytes), "pages" (over MAX_PAGES), "chars" (over MAX_CHARS characters of text).
A crash or a limit reached inside PDFium ends the process; the parent says so.
"""
import json
import re
import resource
import sys
import zlib

CPU_BASE, CPU_PER_PAGE = 5.0, 0.05     # seconds of CPU a file may take: this plus this a page, up to the cap
GAP_EM = 0.8            # a gap between two characters wider than this many em ends a fragment
_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_IMAGE = re.compile(rb"/Subtype\s*/Image")
_CHUNK = 1 << 16


def inflated_size(data: bytes, limit: int) -> int:
    """Bytes that the Flate streams of the file (images aside: text extraction never decodes them)
    expand to, counted without keeping them, stopping once over `limit`."""
    total = 0
    for match in _STREAM.finditer(data):
        start = match.end()
        head = data[max(0, match.start() - 2048):match.start()]
        obj = head.rfind(b" obj")
        if _IMAGE.search(head[obj if obj >= 0 else 0:]):
            continue
        inflater = zlib.decompressobj()
        pos = start
        try:
            while pos < len(data) and not inflater.eof:
                chunk = data[pos:pos + _CHUNK]
                pos += len(chunk)
                total += len(inflater.decompress(chunk, _CHUNK))
                # what max_length held back; after the end of the stream the rest stays here unread
                while inflater.unconsumed_tail and not inflater.eof and total <= limit:
                    tail = len(inflater.unconsumed_tail)
                    out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
                    total += len(out)
                    if not out and len(inflater.unconsumed_tail) == tail:
                        break           # no progress (never seen; a guard against spinning)
                if total > limit:
                    return total
        except zlib.error:
            continue        # not Flate data (or encrypted): PDFium decides
    return total


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")


def _fragments(textpage, pdfium_c, rect) -> tuple[list, int]:
    """The page's fragments and how many letters and digits it holds. One call into PDFium a character
    (its box; spaces and PDFium's line breaks need none), the rest plain arithmetic: this loop is most of
    the time a PDF takes to read."""
    raw = textpage.raw
    text = textpage.get_text_range()
    count = pdfium_c.FPDFText_CountChars(raw)
    if len(text) != count:          # characters outside the BMP: two UTF-16 units for one index
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i)) for i in range(count))
    get_box, get_size, get_weight = (pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FPDFText_GetFontSize,
                                     pdfium_c.FPDFText_GetFontWeight)
    out = []
    first = last = -1                   # the current fragment: text[first:last + 1]
    x0 = y0 = x1 = y1 = 0.0             # its box
    pl = pb = pr = pt = 0.0             # the previous character's box
    em, bold = 1.0, False

    for i, ch in enumerate(text):
        if ch == " ":
            continue
        if ch == "\r" or ch == "\n":
            if first >= 0:
                out.append([text[first:last + 1], round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2),
                            round(em, 2), bold])
                first = -1
            continue
        get_box(raw, i, rect)
        left, right, bottom, top = rect.left, rect.right, rect.bottom, rect.top
        # a gutter, a jump back (PDFium joins the lines of a hyphenated word), or another line
        if first >= 0 and (left - pr > GAP_EM * em or left < pl - em
                           or min(top, pt) - max(bottom, pb) < 0.3 * min(top - bottom, pt - pb)):
            out.append([text[first:last + 1], round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2),
                        round(em, 2), bold])
            first = -1
        if first < 0:
            first = i
            em = max(get_size(raw, i), 1.0)
            bold = get_weight(raw, i) >= 600
            x0, y0, x1, y1 = left, bottom, right, top
        else:
            x0, y0 = min(x0, left), min(y0, bottom)
            x1, y1 = max(x1, right), max(y1, top)
        pl, pb, pr, pt = left, bottom, right, top
        last = i
    if first >= 0:
        out.append([text[first:last + 1], round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2), round(em, 2), bold])
    return out, sum(map(str.isalnum, text))


def main(argv: list[str]) -> int:
    memory, cpu, max_pages, max_chars, max_inflated = (int(a) for a in argv[1:6])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    data = sys.stdin.buffer.read()
    if inflated_size(data, max_inflated) > max_inflated:
        _emit({"error": "inflated"})
        return 0
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        _emit({"error": "password" if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD
               else "format", "detail": str(exc)[:200]})
        return 0
    pages = len(pdf)
    _emit({"pages": pages})
    if pages > max_pages:
        _emit({"error": "pages", "count": pages})
        return 0
    # CPU time in proportion to the pages (PDFium reads hundreds a second here), within the cap given
    used = resource.getrusage(resource.RUSAGE_SELF)
    budget = int(used.ru_utime + used.ru_stime + CPU_BASE + CPU_PER_PAGE * pages) + 1
    if budget < cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (budget, budget + 1))
    rect = pdfium_c.FS_RECTF()
    chars = letters = 0
    for n in range(pages):
        page = pdf[n]
        width, height = page.get_size()
        textpage = page.get_textpage()
        fragments, found = _fragments(textpage, pdfium_c, rect)
        objects = pdfium_c.FPDFPage_CountObjects(page.raw)
        textpage.close()
        page.close()
        chars += sum(len(f[0]) for f in fragments)
        letters += found
        if chars > max_chars:
            _emit({"error": "chars", "count": chars})
            return 0
        _emit({"w": round(width, 2), "h": round(height, 2), "o": objects, "f": fragments})
    _emit({"end": True, "chars": chars, "letters": letters})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
