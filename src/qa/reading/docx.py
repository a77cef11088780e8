"""Word (.docx) files as text, with where each heading starts.

python-docx (chosen by measurement, docs/indexing.md) reads the body in order: each paragraph becomes
one paragraph of the text (a blank line between them), each table row one paragraph with its cells
separated by " | ". Paragraphs styled Title or Heading N, or with an outline level, are headings: their
offsets, levels and texts are recorded, so that a citation carries the heading above it. Headers,
footers, footnotes, comments and text boxes are left out.

Bounds, checked before python-docx reads anything: the file must be a ZIP archive holding
word/document.xml, with at most MAX_ENTRIES entries; its XML parts may expand to MAX_XML bytes in all and
word/document.xml to MAX_DOCUMENT_XML (the archive's declared sizes, which Python's zipfile holds every
entry to: an entry that inflates past its declared size fails its check); the other parts (images,
fonts) are never inflated. XML entities are not expanded (python-docx's parser), and lxml's default
limits on depth and text size apply. The extracted text may hold MAX_CHARS characters.
"""
from __future__ import annotations

import io
import re
import zipfile

from .documents import SourceError
from .positions import Extracted

MAX_ENTRIES = 5_000
MAX_XML = 128 * 1024 * 1024
MAX_DOCUMENT_XML = 64 * 1024 * 1024
MAX_CHARS = 20_000_000
_MIB = 1024 * 1024
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)
_XML_PART = re.compile(r"(\.xml|\.rels)$", re.I)


def extract_docx(data: bytes) -> Extracted:
    """The body text of a .docx file, in order, with its headings' offsets."""
    slim = _checked_package(data)
    try:
        import docx

        document = docx.Document(io.BytesIO(slim))
        blocks = list(_blocks(document))
    except SourceError:
        raise
    except Exception as exc:        # python-docx and lxml raise many kinds on malformed parts
        raise SourceError(f"corrupt .docx ({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})"
                          ) from None
    parts, headings, pos = [], [], 0
    for text, level in blocks:
        text = text.strip()
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        if level is not None:
            headings.append([pos, level, " ".join(text.split())])
        parts.append(text)
        pos += len(text)
        if pos > MAX_CHARS:
            raise SourceError(f"too much text (over {MAX_CHARS:,} characters)")
    if not parts:
        raise SourceError("no text (the document's body is empty)")
    return Extracted(text="".join(parts) + "\n", headings=headings)


def _checked_package(data: bytes) -> bytes:
    """The archive with only its XML parts inflated (other parts emptied), after checking its sizes."""
    if not data.startswith(b"PK\x03\x04"):
        from .pdf import looks_like

        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise SourceError("an old Word .doc file, not .docx (save it as .docx to index it)")
        raise SourceError(f"not a Word .docx file ({looks_like(data)})")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise SourceError("corrupt or truncated .docx (not a readable ZIP archive)") from None
    if len(entries) > MAX_ENTRIES:
        raise SourceError(f"too many parts in this .docx ({len(entries):,}; the limit is {MAX_ENTRIES:,})")
    names = {e.filename for e in entries}
    if "word/document.xml" not in names:
        raise SourceError("not a Word document (the archive has no word/document.xml)")
    xml = [e for e in entries if _XML_PART.search(e.filename)]
    body = next(e for e in entries if e.filename == "word/document.xml")
    if body.file_size > MAX_DOCUMENT_XML or sum(e.file_size for e in xml) > MAX_XML:
        raise SourceError(f"this .docx expands to over {(MAX_DOCUMENT_XML if body.file_size > MAX_DOCUMENT_XML else MAX_XML) // _MIB} MB "
                          "of XML (a decompression bomb?); not read")
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as slim:
            for entry in entries:
                if entry.is_dir():
                    continue
                slim.writestr(entry.filename, archive.read(entry) if _XML_PART.search(entry.filename) else b"")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        reason = "encrypted" if isinstance(exc, RuntimeError) else "corrupt or truncated"
        raise SourceError(f"{reason} .docx (a part cannot be read: {str(exc)[:120]})") from None
    return out.getvalue()


def _blocks(document):
    """(text, heading level or None) for each paragraph and table row of the body, in order."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells, seen = [], []
                for cell in row.cells:
                    if any(cell._tc is tc for tc in seen):    # a merged cell comes once per grid column it spans
                        continue
                    seen.append(cell._tc)                      # (held, so that lxml keeps one proxy for it)
                    cells.append(" ".join(cell.text.split()))
                yield " | ".join(c for c in cells if c), None
        else:
            yield block.text, _heading_level(block)


def _heading_level(paragraph) -> int | None:
    """0 for a title, N for a heading of level N, None for other paragraphs."""
    style = paragraph.style
    depth = 0
    while style is not None and depth < 10:
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        level = _outline_level(style.element)
        if level is not None:
            return level
        style, depth = style.base_style, depth + 1
    return _outline_level(paragraph._p)


def _outline_level(element) -> int | None:
    found = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    if not found:
        return None
    try:
        level = int(found[0])
    except ValueError:
        return None
    return level + 1 if 0 <= level < 9 else None
