"""The evaluation's PDF and Word versions: which sets have them, where their evidence is, how they are reported."""
from pathlib import Path

from qa.config import PROJECT_ROOT
from qa.evaluation.corpora import format_versions
from qa.evaluation.datasets import EvidenceLocator, load_dataset, read_source
from qa.evaluation.report import format_rows, render_markdown

FORMATS = PROJECT_ROOT / "data" / "formats"


def test_three_question_sets_have_pdf_and_word_versions():
    assert format_versions(PROJECT_ROOT / "eval" / "article-test.jsonl") == [
        FORMATS / "pak-us-diplomatic-relations.pdf", FORMATS / "pak-us-diplomatic-relations.docx"]
    for stem in ("encyclopedia-barcelonnette", "encyclopedia-rift-valley-fever"):
        assert [p.suffix for p in format_versions(PROJECT_ROOT / "eval" / "texts" / f"{stem}.jsonl")] == [".pdf", ".docx"]
    assert format_versions(PROJECT_ROOT / "eval" / "article-dev.jsonl") == []


def test_every_evidence_phrase_is_found_in_the_text_read_from_the_pdf_and_docx():
    """read_source gives what citations point into: for a PDF or .docx, the text read out of it."""
    for dataset in (PROJECT_ROOT / "eval" / "article-test.jsonl",
                    PROJECT_ROOT / "eval" / "texts" / "encyclopedia-rift-valley-fever.jsonl"):
        rows = [r for r in load_dataset(dataset) if r.answerable]
        for path in format_versions(dataset):
            source = path.relative_to(PROJECT_ROOT).as_posix()
            text = read_source(source)
            assert not text.startswith("%PDF") and "Page 2" not in text
            locator = EvidenceLocator({source: text})
            assert all(locator.gold_spans(r) for r in rows), (dataset.name, path.name)


def _split(hit1, role="test", of=None, f1=0.5):
    metrics = {"hybrid": {"hit@1": hit1, "f1": f1, "exact_offsets": 1.0}}
    entry = {"role": role, "kind": "article", "rows": 10, "answerable": 8, "metrics": metrics, "squad_v2": {},
             "per_question": {}, "missing_evidence": [], "sources": ["data/formats/a.pdf"], "dataset": "eval/a.jsonl",
             "index": "x", "failures": []}
    if of:
        entry.update(of=of, same_citation=0.9)
    return entry


def test_format_rows_compare_each_version_with_its_text_split():
    data = {"splits": {"article-test": _split(0.80), "article-test (pdf)": _split(0.79, "format", "article-test"),
                       "article-test (docx)": _split(0.75, "format", "article-test")}}
    rows = format_rows(data)
    assert [(r["split"], round(r["delta"], 3), r["within"]) for r in rows] == [
        ("article-test (pdf)", 0.01, True), ("article-test (docx)", 0.05, False)]
    markdown = render_markdown({**data, "generated_at": "now", "seconds": 1, "threshold": 0.5, "configurations": {},
                                "thresholds": {"hybrid": 0.5},
                                "load_average": None, "tradeoff": {}})
    assert "## Formats" in markdown and "**not** every PDF and Word version" in markdown
    overview = markdown.split("## Overview")[1].split("## Formats")[0]
    assert "article-test (pdf)" not in overview           # versions have their own table
