"""Per-question scoring, aggregation and failure causes on hand-made predictions."""
import pytest

from qa.evaluation.configurations import Cited, Prediction
from qa.evaluation.datasets import Row, Span
from qa.evaluation.failures import classify
from qa.evaluation.scoring import aggregate, score_row, threshold_curve

TEXT = "Pakistan signed the agreement in May 1954. Truman met Khan. Nothing else."
GOLD_SENTENCE = Span("d", 0, 42)
OTHER_SENTENCE = Span("d", 43, 59)
TEXTS = {"d": TEXT}
ANSWERABLE = Row("a", "When was it signed?", ["May 1954"], ["agreement in May 1954"], True)
UNANSWERABLE = Row("u", "Who signed in 1960?", [], [], False)
GOLD = [Span("d", 20, 41)]


def prediction(answer="May 1954", confidence=0.9, sentences=(GOLD_SENTENCE, OTHER_SENTENCE), start=0, end=42,
               chunks=(Span("d", 43, 73), Span("d", 0, 59)), seconds=0.01):
    return Prediction(answer, confidence, True, [Cited("d", start, end, TEXT[0:42])], list(sentences), list(chunks),
                      seconds, signals={"dense": confidence})


def test_right_answer_scores_everything():
    s = score_row(ANSWERABLE, GOLD, prediction(), 0.5, TEXTS)
    assert (s["hit1"], s["hit3"], s["recall5"], s["rr"], s["em"], s["f1"], s["contains"]) == (1, 1, 1, 0.5, 1, 1, 1)
    assert s["answered"] and s["right"] and s["offsets_exact"] == [True]
    assert classify(ANSWERABLE, s, prediction()) is None


def test_abstention_on_an_answerable_question_scores_zero_but_keeps_retrieval():
    s = score_row(ANSWERABLE, GOLD, prediction(confidence=0.3), 0.5, TEXTS)
    assert not s["answered"] and s["em"] == 0 and s["f1"] == 0 and s["contains"] == 0
    assert s["hit1"] == 1
    assert classify(ANSWERABLE, s, prediction(confidence=0.3))["cause"] == "false abstention"


def test_wrong_top_sentence_and_inexact_offsets():
    pred = prediction(answer="Truman", sentences=(OTHER_SENTENCE, GOLD_SENTENCE), start=1, end=42)
    s = score_row(ANSWERABLE, GOLD, pred, 0.5, TEXTS)
    assert s["hit1"] == 0 and s["hit3"] == 1 and s["offsets_exact"] == [False]
    assert classify(ANSWERABLE, s, pred)["cause"] == "sentence ranking"


def test_aggregate_and_curve():
    rows = [ANSWERABLE, UNANSWERABLE]
    preds = [prediction(confidence=0.8), prediction(answer="Truman", confidence=0.4, sentences=(OTHER_SENTENCE,))]
    scored = [score_row(r, g, p, 0.5, TEXTS) for r, g, p in zip(rows, [GOLD, []], preds)]
    agg = aggregate(scored)
    assert agg["abstention_unanswerable"] == 1.0 and agg["false_abstention"] == 0.0
    assert agg["accuracy"] == 1.0 and agg["hit@1"] == 1.0 and agg["exact_offsets"] == 1.0
    assert agg["latency_median_ms"] == pytest.approx(10.0)
    curve = threshold_curve(rows, preds, [GOLD, []])
    assert [p["coverage"] for p in curve] == [1.0, 0.5, 0.0]
    assert [p["score"] for p in curve] == [0.5, 1.0, 0.5]
    assert classify(UNANSWERABLE, score_row(UNANSWERABLE, [], preds[1], 0.3, TEXTS), preds[1])["cause"] == \
        "answered unanswerable"


@pytest.mark.parametrize("answer, cause", [
    ("Pakistan signed the agreement in May 1954.", "span: whole sentence"),
    ("in May 1954 after", "span: boundaries"),
    ("Pakistan", "span: wrong phrase"),
])
def test_span_failures_are_told_apart(answer, cause):
    pred = prediction(answer="May 1954")
    pred.answer = answer
    s = score_row(ANSWERABLE, GOLD, pred, 0.5, TEXTS)
    assert classify(ANSWERABLE, s, pred)["cause"] == cause
