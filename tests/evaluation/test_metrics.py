"""Metric functions against hand-computed cases."""
import numpy as np
import pytest

from qa.evaluation import metrics as m


def test_normalisation_drops_case_punctuation_articles_and_extra_spaces():
    assert m.normalize_answer("The  U.S.-Pakistan, alliance!") == "uspakistan alliance"
    assert m.normalize_answer("An  agreement of a kind") == "agreement of kind"
    assert m.normalize_answer("“Pakistan’s” army") == "pakistans army"


def test_exact_match_after_normalisation():
    assert m.exact_match("the May 1954.", "May 1954") == 1.0
    assert m.exact_match("in May 1954", "May 1954") == 0.0


def test_f1_partial_overlap():
    # prediction [in, may, 1954] vs gold [may, 1954]: P = 2/3, R = 1, F1 = 0.8
    assert m.f1_score("in May 1954", "May 1954") == pytest.approx(0.8)
    # repeated tokens count once per occurrence: [us, us, aid] vs [us, aid]: P = 2/3, R = 1
    assert m.f1_score("US US aid", "US aid") == pytest.approx(0.8)
    assert m.f1_score("Truman", "May 1954") == 0.0


def test_f1_of_empty_strings_follows_squad():
    assert m.f1_score("", "") == 1.0
    assert m.f1_score("the", "a") == 1.0        # both normalise to nothing
    assert m.f1_score("", "May 1954") == 0.0


def test_max_over_gold_answers():
    # vs "1954": P = 1/2, R = 1 -> 2/3; vs "in May 1954": P = 1, R = 2/3 -> 0.8
    assert m.max_over_gold(m.f1_score, "May 1954", ["1954", "in May 1954"]) == pytest.approx(0.8)
    assert m.max_over_gold(m.exact_match, "1954", ["May 1954", "the 1954"]) == 1.0
    assert m.max_over_gold(m.f1_score, "anything", []) == 0.0


def test_contains_gold_in_answer_or_citation_on_word_boundaries():
    cited = ["Pakistan signed Mutual Defense Assistance Agreement with the United States in May 1954."]
    assert m.contains_gold(["May 1954"], "1954", cited) == 1.0
    assert m.contains_gold(["May 1954"], "in May 1954", []) == 1.0
    assert m.contains_gold(["US"], "the focus of the talks", []) == 0.0
    assert m.contains_gold(["May 1954"], "", []) == 0.0


def test_hit_at_k():
    ranked = [False, True, False]
    assert m.hit_at_k(ranked, 1) == 0.0
    assert m.hit_at_k(ranked, 3) == 1.0
    assert m.hit_at_k([], 3) == 0.0


def test_reciprocal_rank_and_its_mean():
    runs = [[True, False], [False, False, True], [False, False]]
    rrs = [m.reciprocal_rank(r) for r in runs]
    assert rrs == [1.0, pytest.approx(1 / 3), 0.0]
    assert m.mean(rrs) == pytest.approx(4 / 9)


def test_recall_at_k_counts_a_gold_chunk_within_the_first_k():
    assert m.recall_at_k([False] * 4 + [True], 5) == 1.0
    assert m.recall_at_k([False] * 5 + [True], 5) == 0.0


def test_abstention_rates():
    abstained = [True, False, True, False]
    answerable = [False, False, True, True]
    assert m.abstention_rate(abstained, answerable) == 0.5
    assert m.false_abstention_rate(abstained, answerable) == 0.5
    assert m.abstention_rate([True], [True]) is None      # no unanswerable question to measure on
    assert m.false_abstention_rate([False, False], [True, True]) == 0.0


def test_exact_offsets():
    text = "Hello\n  world. Next one."
    assert m.offsets_exact(text, 0, 14, "Hello world.")
    assert not m.offsets_exact(text, 1, 14, "Hello world.")
    assert not m.offsets_exact(text, 0, 13, "Hello world.")
    assert not m.offsets_exact(text, 20, 99, "one.")


def test_median_and_p95_match_numpy():
    values = list(range(1, 21))
    assert m.median([4, 1, 3, 2]) == 2.5
    assert m.percentile(values, 95) == pytest.approx(np.percentile(values, 95))
    assert m.percentile([], 95) is None
