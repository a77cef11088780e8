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
    assert set(split["metrics"]) == {"hybrid", "dense", "keyword", "baseline"}
    assert split["rows"] == 3 and split["answerable"] == 2 and split["missing_evidence"] == []
    assert not data["calibrated_now"]
    for metrics in split["metrics"].values():
        assert 0.0 <= metrics["hit@1"] <= 1.0 and metrics["latency_median_ms"] > 0
    assert split["metrics"]["baseline"]["abstention_unanswerable"] == 0.0     # the baseline never abstains
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for name in ("hybrid", "dense", "keyword", "baseline", "Product targets"):
        assert name in markdown
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
