"""How fast PDF and Word files are read, beside how fast the build indexes text (`qa bench`)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ..config import PROJECT_ROOT

FORMATS = PROJECT_ROOT / "data" / "formats"
TYPESET = ("pak-us-diplomatic-relations", "encyclopedia-barcelonnette", "encyclopedia-rift-valley-fever")
LONG_PAGES = 300


def long_pdf(pages: int, path: Path) -> Path:
    """A PDF of `pages` pages: the typeset PDFs' pages (one and two columns, headers, footers), repeated."""
    import pypdfium2 as pdfium

    sources = [pdfium.PdfDocument(str(FORMATS / f"{stem}.pdf")) for stem in TYPESET]
    out = pdfium.PdfDocument.new()
    while len(out) < pages:
        for src in sources:
            take = min(len(src), pages - len(out))
            if take > 0:
                out.import_pages(src, list(range(take)))
    out.save(str(path))
    return path


def measure_formats(pages: int = LONG_PAGES, repeats: int = 3) -> dict:
    """Reading a long PDF and the typeset .docx files as `qa build` reads them (child process included):
    pages a second, and KB of text a second, median of `repeats`."""
    from ..reading.documents import extract_binary

    with tempfile.TemporaryDirectory(prefix="qa-bench-pdf-") as tmp:
        data = long_pdf(pages, Path(tmp) / "long.pdf").read_bytes()
    times, text = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        extracted = extract_binary(data, "pdf")
        times.append(time.perf_counter() - started)
        text = extracted.text
    seconds = sorted(times)[len(times) // 2]
    docx = [(FORMATS / f"{stem}.docx").read_bytes() for stem in TYPESET]
    started = time.perf_counter()
    docx_chars = sum(len(extract_binary(d, "docx").text) for d in docx)
    docx_seconds = time.perf_counter() - started
    return {"pdf_pages": pages, "pdf_bytes": len(data), "pdf_seconds": round(seconds, 3),
            "pdf_pages_per_s": round(pages / seconds, 1), "pdf_text_kb": round(len(text.encode("utf-8")) / 1000, 1),
            "pdf_text_kb_per_s": round(len(text.encode("utf-8")) / 1000 / seconds, 1),
            "docx_files": len(docx), "docx_seconds": round(docx_seconds, 3),
            "docx_text_kb_per_s": round(docx_chars / 1000 / docx_seconds, 1)}


def formats_lines(formats: dict, build_kb_per_s: float) -> list[str]:
    """The bench report's paragraph: extraction beside the build's rate on text."""
    per_page = formats["pdf_text_kb"] / formats["pdf_pages"]
    ratio = formats["pdf_text_kb_per_s"] / build_kb_per_s if build_kb_per_s else float("nan")
    return ["", f"Reading files (`qa.reading.pdf`, PDFium in its child process, layout included): a "
                f"{formats['pdf_pages']}-page PDF ({formats['pdf_bytes'] / 1e6:.1f} MB, the typeset PDFs of "
                f"`data/formats/` repeated; {per_page:.1f} KB of text a page) in {formats['pdf_seconds']:.2f} s: "
                f"**{formats['pdf_pages_per_s']:,.0f} pages/s**, {formats['pdf_text_kb_per_s']:,.0f} KB of text a "
                f"second, {ratio:,.0f}× the build's {build_kb_per_s:,.1f} KB/s (the article, above), which indexes "
                f"{build_kb_per_s / per_page:.1f} such pages a second. The {formats['docx_files']} typeset .docx "
                f"files read at {formats['docx_text_kb_per_s']:,.0f} KB of text a second."]
