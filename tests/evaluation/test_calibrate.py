"""Calibration: the logistic fit and the SQuAD-v2-style best threshold."""
import json

import numpy as np
import pytest

from qa.evaluation.calibrate import (ThresholdChoice, choose_threshold, confidence_of, fit_logistic, fit_weights,
                                     write_calibration)


def test_best_threshold_on_a_tiny_set_with_tie_toward_fewer_false_abstentions():
    confidences = [0.9, 0.8, 0.3, 0.2, 0.6]
    answerable = [True, True, False, False, True]
    right = [True, True, False, False, False]
    # t = 0.45 abstains on both unanswerable rows: 2 right answers + 2 abstentions = 4/5.
    # t = 0.70 also abstains on the wrong answerable row: still 4/5, but false abstention 1/3 -> not chosen.
    choice = choose_threshold(confidences, answerable, right)
    assert choice.threshold == pytest.approx(0.45)
    assert choice.score == pytest.approx(0.8)
    assert choice.false_abstention == 0.0
    assert choice.abstention_unanswerable == 1.0


def test_threshold_zero_when_abstaining_never_helps():
    choice = choose_threshold([0.2, 0.9], [True, True], [True, True])
    assert choice.threshold == 0.0 and choice.score == 1.0


def test_threshold_above_everything_when_nothing_is_answerable():
    choice = choose_threshold([0.2, 0.9], [False, False], [False, False])
    assert choice.threshold > 0.9 and choice.score == 1.0


def test_logistic_fit_finds_the_informative_signal_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(80, 2))
    y = (x[:, 0] + 0.1 * rng.normal(size=80) > 0.5).astype(float)
    a, b = fit_logistic(x, y), fit_logistic(x, y)
    assert np.array_equal(a, b)
    assert a[1] > 2 and abs(a[2]) < a[1] / 3


def test_fit_weights_return_raw_scale_weights_that_reproduce_the_fitted_probabilities():
    signals = [{"dense": d, "coverage": c} for d, c in [(0.2, 0.1), (0.3, 0.5), (0.7, 0.4), (0.8, 0.9), (0.5, 0.5),
                                                         (0.6, 0.2), (0.4, 0.8), (0.9, 0.6)]]
    labels = [False, False, True, True, False, True, False, True]
    weights = fit_weights(signals, labels)
    assert set(weights) == {"bias", "dense", "coverage"}
    assert weights["dense"] > 0
    probs = [confidence_of(s, weights) for s in signals]
    assert np.mean([p for p, y in zip(probs, labels) if y]) > np.mean([p for p, y in zip(probs, labels) if not y])


def test_fit_survives_a_single_class_and_a_constant_signal():
    weights = fit_weights([{"dense": 0.5, "type": 1.0}, {"dense": 0.7, "type": 1.0}], [True, True])
    assert weights["type"] == 0.0
    assert all(np.isfinite(v) for v in weights.values())


def test_write_calibration_keeps_keys_it_does_not_own(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"abstain_threshold": 0.1, "dense_weight": 0.7,
                                "extra": {"second_citation_ratio": 0.9, "confidence_weights": {"bias": 0}}}))
    data = write_calibration({"bias": -1.0, "dense": 3.0}, ThresholdChoice(0.42, 0.8, 0.0, 1.0),
                             tmp_path / "dev.jsonl", path, rows=5)
    saved = json.loads(path.read_text())
    assert saved == data
    assert saved["abstain_threshold"] == 0.42
    assert saved["dense_weight"] == 0.7
    assert saved["extra"] == {"second_citation_ratio": 0.9, "confidence_weights": {"bias": -1.0, "dense": 3.0}}
    assert saved["calibrated_on"].endswith("dev.jsonl") and saved["calibrated_at"]
