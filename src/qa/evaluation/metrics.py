"""Metrics in their standard forms, as plain functions.

Short-answer EM and F1 follow the official SQuAD script (normalise: lowercase,
drop punctuation, drop the articles a/an/the, collapse whitespace; the best
score over the gold answers). Ranking metrics take a ranked list of booleans,
"is this item relevant", so the same code scores every configuration.
"""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
# ASCII punctuation as in SQuAD, plus the typographic quotes and dashes these documents use
_PUNCTUATION = set(string.punctuation) | set("‘’“”–—…«»")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def max_over_gold(metric, prediction: str, golds: Sequence[str]) -> float:
    """The best score of the prediction against any acceptable answer (0 when there is none)."""
    return max((metric(prediction, g) for g in golds), default=0.0)


def contains_gold(golds: Sequence[str], answer: str, cited: Iterable[str] = ()) -> float:
    """1 if a normalised gold answer lies inside the normalised answer or any cited sentence."""
    haystacks = [f" {normalize_answer(t)} " for t in [answer, *cited] if t]
    for gold in golds:
        needle = normalize_answer(gold)
        if needle and any(f" {needle} " in h for h in haystacks):
            return 1.0
    return 0.0


def hit_at_k(relevant: Sequence[bool], k: int) -> float:
    """1 if any of the first k ranked items is relevant."""
    return float(any(relevant[:k]))


def recall_at_k(relevant: Sequence[bool], k: int) -> float:
    """Chunk recall@k as the product defines it: a gold sentence lies inside one of the top-k chunks."""
    return hit_at_k(relevant, k)


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    """1/rank of the first relevant item, 0 if none is; MRR is its mean."""
    for rank, rel in enumerate(relevant, 1):
        if rel:
            return 1.0 / rank
    return 0.0


def rate(flags: Iterable[bool]) -> float | None:
    """Share of true flags; None for an empty set (a rate that cannot be measured)."""
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags) if flags else None


def abstention_rate(abstained: Sequence[bool], answerable: Sequence[bool]) -> float | None:
    """Share of the unanswerable questions on which the system abstained."""
    return rate(a for a, ok in zip(abstained, answerable) if not ok)


def false_abstention_rate(abstained: Sequence[bool], answerable: Sequence[bool]) -> float | None:
    """Share of the answerable questions on which the system abstained."""
    return rate(a for a, ok in zip(abstained, answerable) if ok)


def collapse(text: str) -> str:
    return " ".join(text.split())


def offsets_exact(file_text: str, start: int, end: int, cited_text: str) -> bool:
    """The file's text between the offsets is the cited text, whitespace aside."""
    if not (0 <= start <= end <= len(file_text)):
        return False
    return collapse(file_text[start:end]) == collapse(cited_text)


def mean(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method)."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
