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


def test_separation_is_the_best_abstention_within_the_false_abstention_budget():
    """The separation bound: the most abstention any one threshold gives while the mean false abstention
    (each split counting once) stays within the budget; a split without unanswerable questions still
    counts for false abstention."""
    from types import SimpleNamespace
    from qa.evaluation.run import _separation

    def split(role, pairs, config="hybrid"):
        rows = [Row(f"q{i}", "q", ["x"] if a else [], [], a) for i, (_, a) in enumerate(pairs)]
        preds = [SimpleNamespace(confidence=c) for c, _ in pairs]
        return SimpleNamespace(role=role, rows=rows, predictions={config: preds})

    # answerable at 0.2 and 0.9 (x10 each), unanswerable at 0.1, 0.3, 0.95
    a = split("test", [(0.2, True)] * 10 + [(0.9, True)] * 10 + [(0.1, False), (0.3, False), (0.95, False)])
    b = split("test", [(0.5, True)] * 20)
    got = _separation([a, b], budget=0.25)["test"]["hybrid"]
    # t = 0.5: split a's false abstention 10/20 = 0.5, b's 0 (0.5 is not below 0.5) -> mean 0.25, within;
    # abstains on 0.1 and 0.3 -> 2/3. t = 0.9 would make b's false abstention 1.0 (mean 0.75)
    assert got["abstention"] == pytest.approx(2 / 3, abs=1e-4) and got["threshold"] == pytest.approx(0.5)
    # no false abstention allowed: t = 0.2 (0.2 is not below 0.2) abstains on 0.1 only
    strict = _separation([a, b], budget=0.0)["test"]["hybrid"]
    assert strict["abstention"] == pytest.approx(1 / 3, abs=1e-4) and strict["threshold"] == pytest.approx(0.2)
    assert _separation([b], budget=0.25) == {}            # no unanswerable question: nothing to separate
