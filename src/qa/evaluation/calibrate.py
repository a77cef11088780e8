"""Fit the confidence weights and choose the abstention threshold, from the dev split only.

The weights are a logistic regression (Newton's method, deterministic) of "the
hybrid answer is right" on the signals ask() reports; the signals are
standardised for the fit, so that the small L2 penalty on the weights (not
the bias) treats them alike, and the weights are returned on the raw scale
that ask() applies. The threshold is SQuAD v2's best threshold: the
one that maximises the share of dev questions handled correctly (answerable:
answered and right; unanswerable: abstained), ties broken toward the lower
false-abstention rate, then the lower threshold.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..config import CALIBRATION_FILE, PROJECT_ROOT

L2 = 1.0


@dataclass
class ThresholdChoice:
    threshold: float
    score: float
    false_abstention: float | None
    abstention_unanswerable: float | None


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = L2, iterations: int = 100) -> np.ndarray:
    """[bias, w1, ..., wk] minimising log loss + l2/2 * |w|^2 (bias unpenalised)."""
    x = np.hstack([np.ones((len(features), 1)), np.asarray(features, dtype=np.float64)])
    y = np.asarray(labels, dtype=np.float64)
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 1e-6                      # keeps the Hessian invertible when the labels are all one class
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (p - y) + penalty * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


# The direction each signal may push the confidence. A small dev set can fit a signal backwards
# (coverage came out negative once, and off-topic questions then scored high); such a signal is
# dropped and the rest refitted.
EXPECTED_SIGN = {"dense": 1, "coverage": 1, "margin": 1, "type": 1, "missing": -1, "names": -1}


def fit_weights(signals: list[dict], labels: list[bool], l2: float = L2) -> dict[str, float]:
    """Confidence weights in the form ask() reads: {"bias": b, signal: w, ...}, each signal's weight
    of its expected sign or zero."""
    names = sorted({k for s in signals for k in s})
    while True:
        weights = _fit(signals, labels, names, l2)
        wrong = [k for k in names if weights[k] * EXPECTED_SIGN.get(k, 0) < 0]
        if not wrong:
            return {**weights, **{k: 0.0 for k in sorted({k for s in signals for k in s}) if k not in names}}
        names = [k for k in names if k not in wrong]


def _fit(signals: list[dict], labels: list[bool], names: list[str], l2: float) -> dict[str, float]:
    x = np.array([[float(s.get(k, 0.0)) for k in names] for s in signals]).reshape(len(signals), len(names))
    centre = x.mean(axis=0) if len(x) else np.zeros(len(names))
    scale = x.std(axis=0) if len(x) else np.ones(len(names))
    scale = np.where(scale > 1e-12, scale, np.inf)          # a constant signal gets weight 0
    beta = fit_logistic((x - centre) / scale, np.array(labels, dtype=float), l2=l2)
    weights = beta[1:] / scale
    bias = beta[0] - float(np.sum(weights * centre))
    return {"bias": round(float(bias), 6), **{k: round(float(w), 6) for k, w in zip(names, weights)}}


def confidence_of(signals: dict, weights: dict) -> float:
    """The same logistic ask() computes; no signals (nothing retrieved) means no confidence."""
    if not signals:
        return 0.0
    z = weights.get("bias", 0.0) + sum(weights.get(k, 0.0) * v for k, v in signals.items())
    return 1.0 / (1.0 + math.exp(-z))


def choose_threshold(confidences: list[float], answerable: list[bool], right: list[bool]) -> ThresholdChoice:
    """The threshold (answer when confidence >= it) with the best SQuAD-v2-style score."""
    distinct = sorted(set(confidences))
    candidates = [0.0] + [(a + b) / 2 for a, b in zip(distinct, distinct[1:])]
    if distinct:
        candidates.append(min(1.0, distinct[-1] + 1e-6) if distinct[-1] < 1.0 else 1.0)
    n_answerable = sum(answerable)
    n_unanswerable = len(answerable) - n_answerable
    best, best_key = None, None
    for t in candidates:
        answered = [c >= t for c in confidences]
        correct = sum((a and ok) if has else not a for a, has, ok in zip(answered, answerable, right))
        false_abst = sum(has and not a for a, has in zip(answered, answerable))
        abst_unans = sum(not has and not a for a, has in zip(answered, answerable))
        key = (-correct, false_abst, t)
        if best_key is None or key < best_key:
            best_key = key
            best = ThresholdChoice(
                threshold=t,
                score=correct / len(confidences) if confidences else 0.0,
                false_abstention=false_abst / n_answerable if n_answerable else None,
                abstention_unanswerable=abst_unans / n_unanswerable if n_unanswerable else None,
            )
    return best or ThresholdChoice(0.0, 0.0, None, None)


def calibrate(signals: list[dict], answerable: list[bool], right: list[bool]) -> tuple[dict, ThresholdChoice]:
    """Weights fitted on rows where something was retrieved, then the best threshold for them."""
    fit = [(s, ok and has) for s, has, ok in zip(signals, answerable, right) if s]
    weights = fit_weights([s for s, _ in fit], [y for _, y in fit])
    confidences = [confidence_of(s, weights) for s in signals]
    return weights, choose_threshold(confidences, answerable, right)


def write_calibration(weights: dict, choice: ThresholdChoice, dataset: Path, path: Path = CALIBRATION_FILE,
                      rows: int | None = None) -> dict:
    """Rewrite the calibration file, keeping every key this module does not own."""
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not isinstance(data, dict):
            data = {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = {}
    extra = data.get("extra") if isinstance(data.get("extra"), dict) else {}
    try:
        shown = dataset.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        shown = str(dataset)
    data.update({
        "abstain_threshold": round(choice.threshold, 6),
        "extra": {**extra, "confidence_weights": weights},
        "calibrated_on": shown,
        "calibrated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "calibration_dev": {
            "rows": rows,
            "best_score": round(choice.score, 4),
            "false_abstention": None if choice.false_abstention is None else round(choice.false_abstention, 4),
            "abstention_unanswerable": None if choice.abstention_unanswerable is None
            else round(choice.abstention_unanswerable, 4),
        },
    })
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return data
