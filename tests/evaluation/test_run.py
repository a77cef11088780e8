"""End to end: `qa eval --dataset FILE` on the real default index, with the real model."""
import json

import pytest

from qa.config import DEFAULT_INDEX

ROWS = [
    {"id": "e2e-1", "question": "When did Pakistan sign the defence assistance agreement with the US?",
     "answers": ["May 1954"], "evidence": "Mutual Defense Assistance Agreement with the United States in May 1954",
     "answerable": True},
    {"id": "e2e-2", "question": "Which American president did Pakistan's first prime minister go to meet?",
     "answers": ["Harry S Truman", "president Harry S Truman"], "evidence": "to meet president Harry S Truman",
     "answerable": True},
    {"id": "e2e-3", "question": "What is the population of Karachi?", "answers": [], "evidence": "",
     "answerable": False},
]


@pytest.mark.slow
def test_run_evaluation_writes_the_report_for_every_configuration(tmp_path):
    from qa.evaluation.run import run_evaluation

    if not (DEFAULT_INDEX / "manifest.json").exists():
        pytest.skip("no default index; run `qa build`")
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "report"

    assert run_evaluation(datasets=[dataset], out=out) == 0

    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    split = data["splits"]["tiny"]
    from qa.evaluation.configurations import BACKEND_VARIANTS
    from qa.evaluation.report import backend_differences

    backends = data["backends"]         # the product on each backend: "hybrid" is the default one's
    assert set(backends) == set(BACKEND_VARIANTS) and list(backends.values()).count("hybrid") == 1
    assert set(split["metrics"]) == {"hybrid", "dense", "keyword", "baseline", *backends.values()}
    fp32 = backend_differences(split, backends["hybrid-onnx"], backends["hybrid-torch"])
    assert fp32["answers_differ"] == 0 and fp32["max_delta"] == 0.0
    assert set(split["squad_v2"]) == set(split["metrics"])
    assert split["squad_v2"]["hybrid"]["total"] == 3 and split["squad_v2"]["hybrid"]["NoAns_total"] == 1
    assert split["rows"] == 3 and split["answerable"] == 2 and split["missing_evidence"] == []
    for metrics in split["metrics"].values():
        assert 0.0 <= metrics["hit@1"] <= 1.0 and metrics["latency_median_ms"] > 0
    assert split["metrics"]["baseline"]["abstention_unanswerable"] == 0.0     # the baseline never abstains
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for name in ("hybrid", "dense", "keyword", "baseline", "Targets", "SQuAD v2 F1", "Backends"):
        assert name in markdown
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_qa_eval_squad_asks_each_article_as_one_document(tmp_path):
    """`qa eval --squad FILE`: the article becomes a document, its questions are asked of the whole of it,
    and the official SQuAD v2 scores are reported beside our own metrics."""
    from qa.cli import main

    squad = {"version": "v2.0", "data": [{"title": "Tiny Town", "paragraphs": [
        {"context": "Tiny Town was founded in 1820 by a miller named Joseph Hart. It lies on the river Wend.",
         "qas": [{"id": "t1", "question": "Who founded Tiny Town?", "is_impossible": False,
                  "answers": [{"text": "Joseph Hart", "answer_start": 48}]},
                 {"id": "t2", "question": "How many people live in Tiny Town?", "is_impossible": True,
                  "answers": []}]},
        {"context": "The town holds a cheese fair every October. Its bridge was rebuilt in 1902.",
         "qas": [{"id": "t3", "question": "When was the bridge rebuilt?", "is_impossible": False,
                  "answers": [{"text": "1902", "answer_start": 70}]}]}]}]}
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    out = tmp_path / "report"
    assert main(["eval", "--squad", str(path), "--out", str(out)]) == 0
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    split = data["splits"]["squad-Tiny_Town"]
    assert split["kind"] == "squad" and split["rows"] == 3 and split["answerable"] == 2
    scores = split["squad_v2"]["hybrid"]
    assert {"exact", "f1", "HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh"} <= set(scores)
    assert split["metrics"]["hybrid"]["hit@1"] is not None
