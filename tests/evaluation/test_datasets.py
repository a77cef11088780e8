"""Q&A rows and the evidence locator."""
import json

import pytest

from qa.evaluation.datasets import DatasetError, EvidenceLocator, Row, Span, collapse_with_map, load_dataset


def test_load_dataset_reads_single_and_list_evidence(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "question": "When?", "answers": ["May 1954"], "evidence": "in May 1954", "answerable": True},
        {"id": "b", "question": "Why?", "answers": ["x"], "evidence": ["one", "two"], "answerable": True},
        {"id": "c", "question": "Who?", "answers": [], "evidence": "", "answerable": False},
    ]) + "\n\n")
    rows = load_dataset(path)
    assert [r.evidence for r in rows] == [["in May 1954"], ["one", "two"], []]
    assert [r.answerable for r in rows] == [True, True, False]


def test_load_dataset_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "ok?"}\n{"answers": []}\n')
    with pytest.raises(DatasetError, match="bad.jsonl:2"):
        load_dataset(path)


def test_collapse_map_points_back_into_the_raw_text():
    raw = "a  b\n\nc"
    collapsed, mapping = collapse_with_map(raw)
    assert collapsed == "a b c"
    assert [raw[mapping[i]] for i in (0, 2, 4)] == ["a", "b", "c"]


def test_locator_finds_hard_wrapped_evidence_with_file_offsets():
    raw = "Title\n\nPakistan signed the\n  agreement in May 1954. It was signed again."
    locator = EvidenceLocator({"doc.txt": raw})
    [span] = locator.locate("signed the agreement in May 1954")
    assert " ".join(raw[span.start:span.end].split()) == "signed the agreement in May 1954"
    assert len(locator.locate("SIGNED")) == 2            # case-insensitive fallback, every occurrence
    assert locator.locate("not in the text") == []


def test_gold_spans_cover_every_phrase_and_none_for_unanswerable():
    locator = EvidenceLocator({"d": "One fact. Another fact."})
    row = Row("r", "q", ["x"], ["One fact", "Another"], True)
    assert locator.gold_spans(row) == [Span("d", 0, 8), Span("d", 10, 17)]
    assert locator.gold_spans(Row("u", "q", [], [], False)) == []


def test_span_overlap():
    assert Span("d", 0, 10).overlaps(Span("d", 9, 12))
    assert not Span("d", 0, 10).overlaps(Span("d", 10, 12))
    assert not Span("d", 0, 10).overlaps(Span("e", 0, 10))
