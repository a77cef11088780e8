"""Small PDFs written byte by byte for the tests: text placed where a test needs it, scans, empty pages,
bombs. Nothing here is committed as a file; each test makes what it reads."""
from __future__ import annotations

import zlib

WIDTH, HEIGHT = 612, 792
# F1: Helvetica, WinAnsi (the usual Latin text); F2: Helvetica in its standard encoding, where byte 0xAE is
# the "fi" ligature glyph and 0xAF "fl" (as old TeX and DTP output sets them)
FONTS = (b"<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"
         b"/F2<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/StandardEncoding>>>>>>")


def write_pdf(contents: list[bytes | None], resources: bytes = FONTS, filters: bytes = b"",
              extra_objects: list[bytes] = (), page_extra: bytes = b"") -> bytes:
    """A PDF whose pages have these content streams (None: a page without content)."""
    objects: list[bytes] = []
    n_pages = len(contents)
    first_page = 3
    first_content = first_page + n_pages
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(n_pages))
    objects.append(b"<</Type/Catalog/Pages 2 0 R>>")
    objects.append(b"<</Type/Pages/Count %d/Kids[%s]/MediaBox[0 0 %d %d]/Resources %s>>"
                   % (n_pages, kids, WIDTH, HEIGHT, resources))
    streams = []
    for i, content in enumerate(contents):
        if content is None:
            objects.append(b"<</Type/Page/Parent 2 0 R%s>>" % page_extra)
        else:
            objects.append(b"<</Type/Page/Parent 2 0 R/Contents %d 0 R%s>>" % (first_content + len(streams),
                                                                               page_extra))
            streams.append(content)
    for content in streams:
        objects.append(b"<</Length %d%s>>stream\n%s\nendstream" % (len(content), filters, content))
    objects.extend(extra_objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _literal(text: str) -> bytes:
    data = text.encode("cp1252") if not isinstance(text, bytes) else text
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def lines_content(lines: list[tuple[float, float, str | bytes]], size: float = 10, font: str = "F1") -> bytes:
    """Each (x, y, text) set at that place, in the order given (the order of the content stream)."""
    ops = []
    for x, y, text in lines:
        ops.append(b"BT /%s %g Tf 1 0 0 1 %g %g Tm %s Tj ET" % (font.encode(), size, x, y, _literal(text)))
    return b"\n".join(ops)


def text_pdf(pages: list[list[tuple[float, float, str]]], size: float = 10) -> bytes:
    return write_pdf([lines_content(lines, size) for lines in pages])


def image_pdf(pages: int = 2) -> bytes:
    """A 'scan': every page is an image, and there is no text at all."""
    pixels = bytes(range(64))
    image = b"<</Type/XObject/Subtype/Image/Width 8/Height 8/ColorSpace/DeviceGray/BitsPerComponent 8/Length %d>>" \
            b"stream\n%s\nendstream" % (len(pixels), pixels)
    number = 3 + pages + pages          # after the catalog, the page tree, the pages and their contents
    resources = b"<</XObject<</Im1 %d 0 R>>>>" % number
    return write_pdf([b"q 612 0 0 792 0 0 cm /Im1 Do Q"] * pages, resources=resources, extra_objects=[image])


def empty_pages_pdf(pages: int) -> bytes:
    return write_pdf([None] * pages)


def flate_bomb(inflated: int) -> bytes:
    """A zlib stream that inflates to `inflated` spaces, written in a few milliseconds: one fully flushed
    deflate block of 1 MiB of spaces, repeated (its checksum is wrong, which only the end would show)."""
    mib = b" " * (1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    return first + block * (inflated // len(mib) - 1) + c.flush()


def bomb_pdf(inflated: int) -> bytes:
    """One page whose content stream inflates to `inflated` bytes."""
    return write_pdf([flate_bomb(inflated)], filters=b"/Filter/FlateDecode")


def run_length(data_byte: bytes, count: int) -> bytes:
    """RunLengthDecode data for `count` copies of one byte (128 a code), and its end marker."""
    return (bytes([257 - 128]) + data_byte) * (count // 128) + b"\x80"
