"""Measure the PDF and DOCX libraries on the same files: speed and how faithful their text is.

    .venv/bin/pip install pypdf pdfminer.six pdfplumber pdftext docx2python mammoth   # the candidates
    .venv/bin/python data/formats/compare_libraries.py [--pages 300]

For each typeset file here and the .txt it was made from, each library's plain text is scored by
- sentences intact: the share of the .txt's sentences (qa's splitter) found word for word, whitespace
  aside, in the library's text: a sentence broken by a hyphen, a ligature, a header or a column
  read out of order is lost;
- word order: difflib's ratio between the two texts' word sequences (1.0 = the same words in order).
Speed is pages (or documents) a second over all the files, and for PDFs over a long PDF made by
repeating their pages (--pages, default 300), each timed once after a warm-up, in this process.
qa's own reader (qa.reading.pdf / qa.reading.docx) is scored the same way beside the raw libraries.
"""
from __future__ import annotations

import argparse
import difflib
import io
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))

from make_formats import SOURCES  # noqa: E402

from qa.bench.formats import long_pdf  # noqa: E402
from qa.reading.sentences import split_sentences  # noqa: E402


def _words(text: str) -> list[str]:
    return text.split()


def score(text: str, source: str) -> tuple[float, float]:
    flat = " ".join(text.split())
    sentences = [" ".join(source[s:e].split()) for s, e in split_sentences(source)]
    intact = sum(s in flat for s in sentences) / len(sentences)
    order = difflib.SequenceMatcher(None, _words(source), _words(text), autojunk=False).ratio()
    return intact, order


# ---------------------------------------------------------------- PDF candidates: path -> (text, pages)

def pypdfium2_text(path):
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(path))
    out = []
    for page in pdf:
        out.append(page.get_textpage().get_text_range())
    return "\n".join(out), len(pdf)


def pypdf_text(path):
    from pypdf import PdfReader
    reader = PdfReader(str(path))
    return "\n".join(p.extract_text() or "" for p in reader.pages), len(reader.pages)


def pdfminer_text(path):
    from pdfminer.high_level import extract_text
    from pdfminer.pdfpage import PDFPage
    with open(path, "rb") as fh:
        pages = sum(1 for _ in PDFPage.get_pages(fh))
    return extract_text(str(path)), pages


def pdfplumber_text(path):
    import pdfplumber
    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(p.extract_text() or "" for p in pdf.pages), len(pdf.pages)


def pdftext_text(path):
    from pdftext.extraction import plain_text_output
    import pypdfium2 as pdfium
    return plain_text_output(str(path), sort=False), len(pdfium.PdfDocument(str(path)))   # sort=True scrambled two columns


def qa_pdf_text(path):
    from qa.reading.pdf import extract_pdf
    result = extract_pdf(Path(path).read_bytes())
    return result.text, len(result.pages)


PDF = {"pypdfium2": pypdfium2_text, "pypdf": pypdf_text, "pdfminer.six": pdfminer_text,
       "pdfplumber": pdfplumber_text, "pdftext": pdftext_text, "qa (pypdfium2 + qa.reading.pdf)": qa_pdf_text}


# ---------------------------------------------------------------- DOCX candidates: path -> text

def python_docx_text(path):
    import docx
    return "\n\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def docx2python_text(path):
    from docx2python import docx2python
    with docx2python(str(path)) as result:
        return result.text


def mammoth_text(path):
    import mammoth
    with open(path, "rb") as fh:
        return mammoth.extract_raw_text(fh).value


def qa_docx_text(path):
    from qa.reading.docx import extract_docx
    return extract_docx(Path(path).read_bytes()).text


DOCX = {"python-docx": python_docx_text, "docx2python": docx2python_text, "mammoth": mammoth_text,
        "qa (python-docx + qa.reading.docx)": qa_docx_text}


def _timed(fn, path):
    started = time.perf_counter()
    result = fn(path)
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    texts = {stem: path.read_text(encoding="utf-8") for stem, path in SOURCES.items()}
    print("| PDF library | pages/s (3 files) | pages/s (%d pages) | sentences intact | word order |" % args.pages)
    print("|---|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        big = long_pdf(args.pages, Path(tmp) / "long.pdf")
        for name, fn in PDF.items():
            try:
                fn(HERE / "pak-us-diplomatic-relations.pdf")      # warm-up (imports)
            except ImportError as exc:
                print(f"| {name} | not installed ({exc.name}) | | | |")
                continue
            pages = seconds = 0
            scores = []
            for stem in SOURCES:
                (text, n), s = _timed(fn, HERE / f"{stem}.pdf")
                pages, seconds = pages + n, seconds + s
                scores.append((stem, *score(text, texts[stem])))
            (_, n), s = _timed(fn, big)
            intact = ", ".join(f"{i:.2f}" for _, i, _ in scores)
            order = ", ".join(f"{o:.3f}" for _, _, o in scores)
            print(f"| {name} | {pages / seconds:.0f} | {n / s:.0f} | {intact} | {order} |")
    print()
    print("| DOCX library | documents/s | sentences intact | word order |")
    print("|---|---:|---|---|")
    for name, fn in DOCX.items():
        try:
            fn(HERE / "pak-us-diplomatic-relations.docx")
        except ImportError as exc:
            print(f"| {name} | not installed ({exc.name}) | | |")
            continue
        seconds, scores = 0.0, []
        for stem in SOURCES:
            text, s = _timed(fn, HERE / f"{stem}.docx")
            seconds += s
            scores.append(score(text, texts[stem]))
        intact = ", ".join(f"{i:.2f}" for i, _ in scores)
        order = ", ".join(f"{o:.3f}" for _, o in scores)
        print(f"| {name} | {len(SOURCES) / seconds:.0f} | {intact} | {order} |")
    print(f"\nfiles, in order: {', '.join(SOURCES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
