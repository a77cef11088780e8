"""Word files: the body's text in order with its headings, and one clear line for each bad file."""
import io
import time
import zipfile
from pathlib import Path

import pytest

from qa.reading import docx as docx_mod
from qa.reading.docx import extract_docx
from qa.reading.documents import SourceError, read_document
from qa.reading.positions import heading_at, locate

from .test_pdf import FORMATS, TYPESET, sentences


def make_docx(paragraphs: list[tuple[str, str]], table: list[list[str]] | None = None) -> bytes:
    """A .docx written with python-docx: (style, text) paragraphs, then an optional table."""
    import docx

    document = docx.Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("stem", list(TYPESET))
def test_typeset_docx_gives_the_sentences_of_its_text(stem):
    extracted = extract_docx((FORMATS / f"{stem}.docx").read_bytes())
    assert sentences(extracted.text) == sentences(TYPESET[stem].read_text(encoding="utf-8"))


def test_typeset_docx_records_its_headings_where_they_are():
    extracted = extract_docx((FORMATS / "encyclopedia-barcelonnette.docx").read_bytes())
    assert extracted.headings[0] == [0, 0, "Barcelonnette"]
    assert [h[2] for h in extracted.headings[1:4]] == ["Toponymy", "History", "Origins"]
    for offset, _level, title in extracted.headings:
        assert extracted.text[offset:offset + len(title)] == title
    at = extracted.text.index("In 1588 the troops of François")
    assert heading_at(extracted.headings, at) == "Ancien Régime"
    assert locate({"headings": extracted.headings}, at, at + 10) == {"heading": "Ancien Régime"}


def test_paragraphs_headings_and_tables_in_order():
    data = make_docx([("Title", "Annual report"), ("Heading 1", "Results"), ("Normal", "Sales rose by 4%."),
                      ("Heading 2", "By region"), ("Normal", "  ")], table=[["Region", "Sales"], ["North", "12"]])
    extracted = extract_docx(data)
    assert extracted.text == ("Annual report\n\nResults\n\nSales rose by 4%.\n\nBy region\n\n"
                              "Region | Sales\n\nNorth | 12\n")
    assert extracted.headings == [[0, 0, "Annual report"], [15, 1, "Results"], [43, 2, "By region"]]


def _refused(data: bytes, seconds: float = 5) -> str:
    started = time.perf_counter()
    with pytest.raises(SourceError) as info:
        extract_docx(data)
    assert time.perf_counter() - started < seconds
    assert "\n" not in str(info.value)
    return str(info.value)


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_not_a_docx_is_refused():
    assert _refused(b"<html><body>hello</body></html>") == "not a Word .docx file (it is an HTML page)"
    assert _refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)).startswith("an old Word .doc file")
    assert _refused(_zip({"hello.txt": b"hi"})).startswith("not a Word document")
    assert _refused(bytes(range(256)) * 4) == "not a Word .docx file (it holds binary data)"


def test_truncated_or_corrupt_docx_is_refused():
    whole = (FORMATS / "pak-us-diplomatic-relations.docx").read_bytes()
    assert _refused(whole[:len(whole) // 2]).startswith("corrupt or truncated .docx")
    broken = _zip({"[Content_Types].xml": b"<Types", "word/document.xml": b"<not xml"})
    assert _refused(broken).startswith("corrupt .docx")


def test_zip_bomb_is_refused_from_the_declared_sizes():
    """document.xml of 100 MB of spaces (100 KB compressed): refused before anything is inflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as fh:
            block = b" " * (1 << 20)
            for _ in range(100):
                fh.write(block)
    assert _refused(out.getvalue()).startswith("this .docx expands to over 64 MB of XML")


def test_a_part_that_inflates_past_its_declared_size_fails_its_check(monkeypatch):
    """A bomb whose header lies about its size: zipfile stops at the declared size and the check fails."""
    monkeypatch.setattr(docx_mod, "MAX_DOCUMENT_XML", 1 << 20)
    real = (FORMATS / "pak-us-diplomatic-relations.docx").read_bytes()
    source = zipfile.ZipFile(io.BytesIO(real))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "word/document.xml":
                data = data.replace(b"</w:body>", b"<w:p><w:r><w:t>" + b"x" * (8 << 20) + b"</w:t></w:r></w:p></w:body>")
            archive.writestr(entry.filename, data)
    raw = bytearray(out.getvalue())
    # declare document.xml as 1,000 bytes, in its local header and in the central directory
    archive = zipfile.ZipFile(io.BytesIO(bytes(raw)))
    info = archive.getinfo("word/document.xml")
    size = info.file_size.to_bytes(4, "little")
    raw = raw.replace(size, (1000).to_bytes(4, "little"))
    message = _refused(bytes(raw))
    assert message.startswith(("corrupt", "this .docx expands"))


def test_xml_entities_are_not_expanded():
    """A 'billion laughs' document.xml: python-docx's parser leaves entities alone."""
    laughs = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)) + \
        b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>' \
        b'<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
    real = zipfile.ZipFile(io.BytesIO((FORMATS / "pak-us-diplomatic-relations.docx").read_bytes()))
    entries = {e.filename: real.read(e) for e in real.infolist()}
    entries["word/document.xml"] = laughs
    started = time.perf_counter()
    try:
        text = extract_docx(_zip(entries)).text
        assert len(text) < 1000
    except SourceError as exc:
        assert "\n" not in str(exc)
    assert time.perf_counter() - started < 5


def test_read_document_stores_extracted_text_and_headings(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(make_docx([("Heading 1", "Plan"), ("Normal", "We meet on Monday.")]))
    doc = read_document(path, tmp_path)
    assert (doc.format, doc.offsets, doc.pages) == ("docx", "extracted-text", None)
    assert doc.headings == [[0, 1, "Plan"]] and doc.text == "Plan\n\nWe meet on Monday.\n"


def test_images_are_not_inflated(tmp_path):
    """Media parts are emptied before python-docx loads the package: a 'bomb' image costs nothing."""
    real = zipfile.ZipFile(io.BytesIO((FORMATS / "pak-us-diplomatic-relations.docx").read_bytes()))
    entries = {e.filename: real.read(e) for e in real.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        with archive.open("word/media/image1.png", "w", force_zip64=True) as fh:
            for _ in range(64):
                fh.write(b"\0" * (1 << 20))
    started = time.perf_counter()
    assert "Liaquat Ali Khan" in extract_docx(out.getvalue()).text
    assert time.perf_counter() - started < 3


def test_docx_path_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "NOTES.DOCX"
    path.write_bytes(make_docx([("Normal", "Upper case names are read too.")]))
    assert read_document(path, tmp_path).format == "docx"
    assert Path(path).suffix == ".DOCX"
