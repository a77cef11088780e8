"""The answer model's two thresholds, chosen on validation sets: abstain as often as a false-abstention
budget allows; call answers confident from where they are right often enough."""
from qa.answering.answer_model import AnswerModel
from qa.training.fit_answer_model import abstain_threshold, confident_threshold


def _picks(answerable, unanswerable):
    """(confidence, F1, answerable, right) rows: answerable ones are (confidence, right)."""
    return ([(p, 1.0 if ok else 0.0, True, ok) for p, ok in answerable]
            + [(p, 0.0, False, False) for p in unanswerable])


def test_abstain_threshold_keeps_false_abstention_within_its_budget():
    a = _picks([(0.1 * i, True) for i in range(1, 21)], [0.05, 0.15, 0.25])     # answerable at 0.1 ... 2.0
    b = _picks([(0.3, True), (0.9, True)], [0.2])
    t = abstain_threshold([a, b], budget=0.05)
    rate = lambda picks: sum(p < t for p, _, ok, _ in picks if ok) / sum(ok for *_, ok, _ in picks)
    assert (rate(a) + rate(b)) / 2 <= 0.05
    # one step higher would break the budget
    higher = min(p for picks in (a, b) for p, *_ in picks if p > t)
    rate_up = lambda picks: sum(p < higher for p, _, ok, _ in picks if ok) / sum(ok for *_, ok, _ in picks)
    assert (rate_up(a) + rate_up(b)) / 2 > 0.05


def test_confident_threshold_is_the_lowest_reaching_the_precision():
    picks = _picks([(0.95, True), (0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False)], [0.85])
    assert confident_threshold([picks], floor=0.0, precision=0.75) == 0.8    # 0.8+: 3 right of 4 given
    assert confident_threshold([picks], floor=0.0, precision=1.0) == 0.9
    assert confident_threshold([_picks([(0.9, False)], [])], floor=0.0, precision=0.9) is None


def test_tiers_follow_the_two_thresholds():
    model = AnswerModel(["x"], [0.0], [1.0], [1.0], 0.0, 0.2, {}, confident=0.7)
    assert [model.tier(p) for p in (0.1, 0.2, 0.5, 0.7, 0.99)] == ["none", "unsure", "unsure", "confident", "confident"]
    assert AnswerModel(["x"], [0.0], [1.0], [1.0], 0.0, 0.2, {}).tier(0.99) == "unsure"
    assert model.tier(0.1, threshold=0.0) == "unsure"        # the evaluation asks for every answer
