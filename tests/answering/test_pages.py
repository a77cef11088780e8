"""Citations from PDF and Word files, end to end with the real model: the page (and end page) of every cited
sentence is the page pdftotext sees it on, the heading is the one above it, and the offsets are exact in
the stored text, in ask(), `qa ask --json` and /api/ask."""
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from qa.answering.ask import ask
from qa.indexing.build import build
from qa.indexing.store import load_index, normalise
from qa.reading.positions import heading_at
from qa.reading.sentences import split_sentences

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ROOT / "data" / "formats"
KNOWN = json.loads((FORMATS / "pages.json").read_text(encoding="utf-8"))
QUESTIONS = [   # (question, source, words the cited sentence starts with)
    ("When was the virus that causes Rift Valley fever first isolated?", "encyclopedia-rift-valley-fever.pdf",
     "The disease was first reported among livestock"),
    ("Which agreement did Pakistan sign with the United States in May 1954?", "pak-us-diplomatic-relations.pdf",
     "Pakistan signed Mutual Defense Assistance Agreement"),
    ("What has been one of the largest sources of foreign direct investment in Pakistan?",
     "pak-us-diplomatic-relations.pdf", "The United States has been one of the largest sources"),
    ("Who founded Barcelonnette in 1231?", "encyclopedia-barcelonnette.docx", "Barcelonnette was founded and named"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats") / "index"
    build([FORMATS / "encyclopedia-rift-valley-fever.pdf", FORMATS / "pak-us-diplomatic-relations.pdf",
           FORMATS / "encyclopedia-barcelonnette.docx"], folder)
    return load_index(folder)


def _known_pages(stem: str, text: str, start: int) -> tuple[int, int] | None:
    """The pages pdftotext gave for the sentence at `start`, if pages.json holds it."""
    sentence = " ".join(text[start:].split()[:6])
    return tuple(KNOWN[stem]["sentences"][sentence]) if sentence in KNOWN[stem]["sentences"] else None


def test_every_sentence_of_a_pdf_has_the_pages_pdftotext_saw(index):
    checked = 0
    for info in index.manifest["sources"]:
        if info.get("format") != "pdf":
            continue
        stem = Path(info["source"]).stem
        text = index.source_text(info["source"])
        assert len(info["pages"]) == KNOWN[stem]["pages"]
        for s in (s for s in index.sentences if s.source == info["source"]):
            assert text[s.start:s.end] == s.text
            known = _known_pages(stem, text, s.start)
            if known:
                where = index.position(s.source, s.start, s.end)
                assert (where["page"], where["end_page"]) == known, s.text
                checked += 1
    assert checked >= 100


@pytest.mark.parametrize("question, source, opening", QUESTIONS)
def test_citations_carry_their_page_or_heading(index, question, source, opening):
    answer = ask(index, question)
    assert answer.citations, answer
    c = answer.citations[0]
    assert c.source.endswith(source) and c.text.startswith(opening), c.text
    text = index.source_text(c.source)
    assert normalise(text[c.start:c.end]) == c.text
    if source.endswith(".pdf"):
        known = _known_pages(Path(source).stem, text, c.start)      # (pages.json leaves out ambiguous openings)
        assert c.page and c.end_page and (known is None or (c.page, c.end_page) == known)
        assert c.heading is None
    else:
        info = next(i for i in index.manifest["sources"] if i["source"] == c.source)
        assert c.heading == heading_at(info["headings"], c.start) == "Toponymy" and c.page is None


def test_a_sentence_across_a_page_break_is_cited_with_both_pages(index):
    answer = ask(index, "What has been one of the largest sources of foreign direct investment in Pakistan?")
    c = answer.citations[0]
    assert (c.page, c.end_page) == (2, 3)
    assert c.to_dict()["page"] == 2 and c.to_dict()["end_page"] == 3


def test_qa_ask_json_and_text_show_pages(index, capsys):
    from qa.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["ask", "--index", str(index.folder), "--json", QUESTIONS[1][0]]) == 0
    citation = json.loads(out.getvalue())["citations"][0]
    assert citation["page"] == 1 and citation["end_page"] == 1 and citation["heading"] is None
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["ask", "--index", str(index.folder), QUESTIONS[0][0]]) == 0
    assert "pdf:" in out.getvalue() and "(p. 1)" in out.getvalue()


def test_api_ask_citations_carry_pages(index):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from qa.web.api import api_router
    from qa.web.service import QAService

    app = FastAPI()
    app.include_router(api_router(QAService(index.folder)))
    with TestClient(app) as client:
        body = client.post("/api/ask", json={"question": QUESTIONS[2][0]}).json()
        heading = client.post("/api/ask", json={"question": QUESTIONS[3][0]}).json()
    assert (body["citations"][0]["page"], body["citations"][0]["end_page"]) == (2, 3)
    assert heading["citations"][0]["heading"] == "Toponymy" and heading["citations"][0]["page"] is None


def test_sentences_of_pdf_and_docx_are_those_of_the_text(index):
    """The same sentences (whitespace aside) as the .txt the files were typeset from, furniture aside."""
    txt = (ROOT / "data" / "texts" / "encyclopedia-barcelonnette.txt").read_text(encoding="utf-8")
    expected = [normalise(txt[s:e]) for s, e in split_sentences(txt)]
    got = [normalise(s.text) for s in index.sentences if s.source.endswith("barcelonnette.docx")]
    assert got == expected
