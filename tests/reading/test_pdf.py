"""PDF text layers: faithful text and right pages on typeset files, and one clear line for each bad file."""
import io
import json
import time
from pathlib import Path

import pytest

from qa.reading import pdf as pdf_mod
from qa.reading.documents import SourceError, is_furniture, read_document
from qa.reading.pdf import extract_pdf
from qa.reading.positions import locate, page_at
from qa.reading.sentences import split_sentences

from .pdf_samples import (bomb_pdf, empty_pages_pdf, image_pdf, lines_content, text_pdf, write_pdf)

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ROOT / "data" / "formats"
TYPESET = {     # the PDFs in data/formats/ and the .txt each was typeset from
    "pak-us-diplomatic-relations": ROOT / "data" / "pak-us-diplomatic-relations.txt",
    "encyclopedia-barcelonnette": ROOT / "data" / "texts" / "encyclopedia-barcelonnette.txt",
    "encyclopedia-rift-valley-fever": ROOT / "data" / "texts" / "encyclopedia-rift-valley-fever.txt",
}
KNOWN = json.loads((FORMATS / "pages.json").read_text(encoding="utf-8"))


def sentences(text: str) -> list[str]:
    return [" ".join(text[s:e].split()) for s, e in split_sentences(text) if not is_furniture(text[s:e])]


@pytest.fixture(scope="module")
def typeset():
    return {stem: extract_pdf((FORMATS / f"{stem}.pdf").read_bytes()) for stem in TYPESET}


# ---------------------------------------------------------------- typeset files

@pytest.mark.parametrize("stem", list(TYPESET))
def test_typeset_pdf_gives_the_sentences_of_its_text(typeset, stem):
    """Reading order (two columns for Rift Valley fever), hyphenation, ligatures, headers and footers, and
    sentences across page and column breaks: any of them wrong breaks a sentence."""
    assert sentences(typeset[stem].text) == sentences(TYPESET[stem].read_text(encoding="utf-8"))


@pytest.mark.parametrize("stem", list(TYPESET))
def test_typeset_pdf_pages_are_the_pages_pdftotext_saw(typeset, stem):
    extracted, known = typeset[stem], KNOWN[stem]
    assert len(extracted.pages) == known["pages"]
    spans = split_sentences(extracted.text)
    info = {"pages": extracted.pages}
    checked = crossing = 0
    for head, (page, end_page) in known["sentences"].items():
        at = extracted.text.find(head)
        assert at >= 0, head
        start, end = next((s, e) for s, e in spans if s <= at < e)
        assert locate(info, start, end) == {"page": page, "end_page": end_page}, head
        checked += 1
        crossing += page != end_page
    assert checked >= 40 and (crossing >= 1 or stem == "encyclopedia-rift-valley-fever")


def test_running_headers_footers_and_page_numbers_are_not_text(typeset):
    article = typeset["pak-us-diplomatic-relations"].text
    assert "Page " not in article and article.count("Pak- US Diplomatic Relations") == 1   # the title only
    rift = typeset["encyclopedia-rift-valley-fever"].text
    assert rift.count("Rift Valley fever\n") == 1 and not any(line.strip().isdigit() for line in rift.splitlines())
    for extracted in typeset.values():
        assert not set(extracted.text) & set("\ufffe\ufb00\ufb01\ufb02\ufb03\ufb04\u00ad")


def test_a_sentence_over_a_page_break_is_one_sentence_with_both_pages(typeset):
    text = typeset["pak-us-diplomatic-relations"].text
    pages = typeset["pak-us-diplomatic-relations"].pages
    crossing = [(s, e) for s, e in split_sentences(text) if page_at(pages, s) != page_at(pages, e - 1)]
    assert len(crossing) == 3
    start, end = crossing[0]
    assert " ".join(text[start:end].split()).startswith("With the start of the 21st century")
    assert locate({"pages": pages}, start, end) == {"page": 1, "end_page": 2}


# ---------------------------------------------------------------- layouts made here

def test_two_columns_are_read_column_by_column_whatever_the_stream_order():
    left = [(72, 700 - 14 * i, f"Left {w}") for i, w in enumerate("one two three four five six".split())]
    right = [(320, 700 - 14 * i, f"Right {w}") for i, w in enumerate("one two three four five six".split())]
    interleaved = [line for pair in zip(left, right) for line in pair]       # row by row, as some writers do
    title = [(200, 740, "A Title Across Both Columns")]
    text = extract_pdf(text_pdf([title + interleaved])).text
    words = text.split()
    assert words[:5] == ["A", "Title", "Across", "Both", "Columns"]
    assert " ".join(words[5:]) == " ".join(f"Left {w}" for w in "one two three four five six".split()) + " " + \
        " ".join(f"Right {w}" for w in "one two three four five six".split())


def test_hyphenated_words_are_joined_and_compounds_keep_their_hyphen():
    lines = [(72, 700, "The treaty was an impor-"), (72, 686, "tant step, and its well-"),
             (72, 672, "known author signed it in a well-known hall.")]
    text = extract_pdf(text_pdf([lines])).text
    assert "important step" in text and "well-known author" in text


def test_ligature_glyphs_read_as_letters():
    content = lines_content([(72, 700, b"The \xaerst \xafow of \xaeelds.")], font="F2")   # fi, fl glyphs
    assert extract_pdf(write_pdf([content])).text == "The first flow of fields.\n"


def test_pages_and_headers_of_a_made_document():
    """Three pages with a running header and numbered footers; one sentence runs from page 1 onto page 2."""
    pages = []
    for n, body in enumerate([["First sentence here.", "The treaty was signed"],
                              ["in May 1954 by both sides.", "Another one."],
                              ["The last sentence."]], 1):
        lines = [(72, 760, "Annual Report 2023"), (300, 40, f"{n}")]
        lines += [(72, 700 - 14 * i, t) for i, t in enumerate(body)]
        pages.append(lines)
    extracted = extract_pdf(text_pdf(pages))
    assert "Annual Report" not in extracted.text
    found = {" ".join(extracted.text[s:e].split()): locate({"pages": extracted.pages}, s, e)
             for s, e in split_sentences(extracted.text)}
    assert found == {"First sentence here.": {"page": 1, "end_page": 1},
                     "The treaty was signed in May 1954 by both sides.": {"page": 1, "end_page": 2},
                     "Another one.": {"page": 2, "end_page": 2},
                     "The last sentence.": {"page": 3, "end_page": 3}}


def test_empty_pages_between_texts_keep_page_numbers_right():
    extracted = extract_pdf(write_pdf([lines_content([(72, 700, "On page one.")]), None,
                                       lines_content([(72, 700, "On page three.")])]))
    at = extracted.text.index("On page three")
    assert len(extracted.pages) == 3 and page_at(extracted.pages, at) == 3
    assert page_at(extracted.pages, 0) == 1


# ---------------------------------------------------------------- bad files: one line each, in bounded time

def _refused(data: bytes, seconds: float = 10) -> str:
    started = time.perf_counter()
    with pytest.raises(SourceError) as info:
        extract_pdf(data)
    assert time.perf_counter() - started < seconds
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def _encrypted(user_password: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO((FORMATS / "pak-us-diplomatic-relations.pdf").read_bytes()))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf_is_refused():
    assert _refused(_encrypted("secret")).startswith("password-protected")


def test_pdf_with_only_an_owner_password_is_read():
    assert "Liaquat Ali Khan" in extract_pdf(_encrypted("")).text


def test_scanned_pdf_would_need_ocr():
    assert _refused(image_pdf(3)) == "no text layer: this PDF would need OCR"


def test_pdf_of_empty_pages_is_refused():
    assert _refused(empty_pages_pdf(3)) == "no text: its pages are empty"


def test_100000_empty_pages_are_refused_at_the_page_count():
    assert _refused(empty_pages_pdf(100_000), seconds=5) == "too many pages (100,000; the limit is 5,000)"


def test_truncated_and_corrupt_pdfs_are_refused():
    whole = (FORMATS / "pak-us-diplomatic-relations.pdf").read_bytes()
    assert _refused(whole[:len(whole) // 2]).startswith("truncated or corrupt PDF")
    assert _refused(b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n").startswith("corrupt PDF")
    assert _refused(b"").startswith("empty file")


def test_a_pdf_that_is_really_html_or_binary_is_refused():
    assert _refused(b"<!DOCTYPE html><html><body><p>Hello</p></body></html>") == "not a PDF (it is an HTML page)"
    assert _refused(bytes(range(256)) * 16) == "not a PDF (it holds binary data)"
    assert _refused(b"Just some notes.\n") == "not a PDF (it is plain text)"


def test_decompression_bomb_is_refused_before_pdfium_reads_it():
    message = _refused(bomb_pdf(1 << 30), seconds=10)        # 1 GiB of spaces in a 1 MB file
    assert message.startswith("a compressed stream in this PDF expands to over 256 MB")


def test_a_reader_over_its_cpu_limit_is_stopped(monkeypatch):
    monkeypatch.setattr(pdf_mod, "MAX_INFLATED", 1 << 40)     # let the bomb through to burn CPU on it
    monkeypatch.setattr(pdf_mod, "CPU_SECONDS", 1)
    assert _refused(bomb_pdf(8 << 30), seconds=10).startswith("PDF took too long to read")


def test_a_reader_over_its_memory_limit_says_so(monkeypatch):
    monkeypatch.setattr(pdf_mod, "MEMORY_BYTES", 20 * 1024 * 1024)      # too little to load PDFium
    message = _refused(text_pdf([[(72, 700, "Hello.")]]))
    assert "memory" in message


def test_a_reader_that_hangs_is_killed_at_the_wall_clock_limit(monkeypatch, tmp_path):
    sleeper = tmp_path / "worker.py"
    sleeper.write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setattr(pdf_mod, "WORKER", sleeper)
    monkeypatch.setattr(pdf_mod, "WALL_SECONDS", 1)
    assert _refused(text_pdf([[(72, 700, "Hello.")]]), seconds=5) == "PDF took over 1 s to read (the limit); not indexed"


def test_read_document_stores_extracted_text_and_pages(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(text_pdf([[(72, 700, "Page one says this.")], [(72, 700, "Page two says that.")]]))
    doc = read_document(path, tmp_path)
    assert (doc.source, doc.offsets, doc.format, doc.encoding) == ("report.pdf", "extracted-text", "pdf", "")
    assert doc.text == "Page one says this. Page two says that.\n" and doc.pages == [0, 20]


def test_layout_time_is_linear_in_the_fragments():
    """Scattered characters (the worst case for columns and lines): 200,000 fragments in a few seconds."""
    import random

    from qa.reading.pdf_layout import layout

    rng = random.Random(0)
    pages = []
    for _ in range(10):
        fragments = []
        for _ in range(20_000):
            x, y = rng.uniform(0, 600), rng.uniform(0, 800)
            fragments.append(["w", x, y, x + 5, y + 8, 10.0, False])
        pages.append((612.0, 792.0, fragments))
    started = time.perf_counter()
    extracted = layout(pages)
    assert time.perf_counter() - started < 20
    assert len(extracted.pages) == 10
