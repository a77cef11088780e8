"""The answer model: the probability that a candidate answer is right, from its features.

A logistic regression fitted on an article the reader never read (see models/ANSWER_MODEL.md), stored
as plain JSON (feature names, standardisation, coefficients, the abstention threshold chosen on the
validation articles). It both picks the candidate to give and decides when to say "the document does
not say".
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT

ANSWER_MODEL_FILE = PROJECT_ROOT / "models" / "answer-model.json"


@dataclass
class AnswerModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float            # below it: abstain
    meta: dict
    confident: float | None = None   # at or above it: a confident answer; None: no answer is called confident

    def tier(self, probability: float, threshold: float | None = None) -> str:
        """"none" below the abstention threshold, "confident" at or above the confident one, else "unsure"."""
        if probability < (self.threshold if threshold is None else threshold):
            return "none"
        return "confident" if self.confident is not None and probability >= self.confident else "unsure"

    def probability(self, features: dict) -> float:
        z = self.intercept
        for name, m, s, w in zip(self.features, self.mean, self.scale, self.coef):
            z += w * (features.get(name, 0.0) - m) / s
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict:
        return {"features": self.features, "mean": self.mean, "scale": self.scale, "coef": self.coef,
                "intercept": self.intercept, "threshold": self.threshold, "confident": self.confident, **self.meta}

    @classmethod
    def from_json(cls, data: dict) -> "AnswerModel":
        keys = ("features", "mean", "scale", "coef", "intercept", "threshold")
        return cls(*(data[k] for k in keys), meta={k: v for k, v in data.items() if k not in keys + ("confident",)},
                   confident=data.get("confident"))


_cache: tuple[float, AnswerModel] | None = None


def load_answer_model(path: Path = ANSWER_MODEL_FILE) -> AnswerModel | None:
    """The committed model (read again when `qa train` rewrites it), or None when there is none."""
    global _cache
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return None
    if _cache is None or _cache[0] != stamp or path != ANSWER_MODEL_FILE:
        model = AnswerModel.from_json(json.loads(path.read_text(encoding="utf-8")))
        if path != ANSWER_MODEL_FILE:
            return model
        _cache = (stamp, model)
    return _cache[1]
