"""Score predictions against a Q&A row, and aggregate the scores of a split.

A sentence or chunk is relevant when its span in the file overlaps the
evidence phrase; for the engine's sentences that is exactly "is a gold
sentence", and one definition scores every configuration, the baseline too.
Retrieval metrics come from the run at threshold 0 (the ranking does not
depend on the threshold); answer metrics apply the threshold, SQuAD-v2 style:
an abstention on an answerable question scores 0.
"""
from __future__ import annotations

from . import metrics as m
from .configurations import Prediction
from .datasets import Row, Span

RECALL_K = 5
HIT_K = 3


def is_right(row: Row, gold: list[Span], pred: Prediction) -> bool:
    """The answer is right: the gold answer is in the answer or a citation, and the top sentence is gold."""
    if not row.answerable or pred.error:
        return False
    hit1 = bool(pred.sentences) and any(pred.sentences[0].overlaps(g) for g in gold)
    return hit1 and bool(m.contains_gold(row.answers, pred.answer, [c.text for c in pred.citations]))


def tier(pred: Prediction, threshold: float, confident: float | None) -> str | None:
    """The tier the product shows: "none" (abstained), "confident" or "unsure"; None for a configuration
    that cannot abstain (the baseline)."""
    if not pred.can_abstain:
        return None
    if not pred.answered(threshold):
        return "none"
    return "confident" if confident is not None and pred.confidence >= confident else "unsure"


def score_row(row: Row, gold: list[Span], pred: Prediction, threshold: float, texts: dict[str, str],
              confident: float | None = None) -> dict:
    answered = pred.answered(threshold)
    out = {
        "tier": tier(pred, threshold, confident),
        "id": row.id,
        "answerable": row.answerable,
        "answered": answered,
        "confidence": round(pred.confidence, 4),
        "right": is_right(row, gold, pred),
        "seconds": pred.seconds,
        "offsets_exact": [m.offsets_exact(texts[c.source], c.start, c.end, c.text) if c.source in texts else False
                          for c in pred.citations],
        "answer_verbatim": _verbatim(pred, texts),
    }
    if row.answerable:
        sentences = [any(s.overlaps(g) for g in gold) for s in pred.sentences]
        chunks = [any(c.overlaps(g) for g in gold) for c in pred.chunks]
        answer = pred.answer if answered else ""
        cited = [c.text for c in pred.citations] if answered else []
        out.update(
            evidence_found=bool(gold),
            hit1=m.hit_at_k(sentences, 1),
            hit3=m.hit_at_k(sentences, HIT_K),
            recall5=m.recall_at_k(chunks, RECALL_K),
            rr=m.reciprocal_rank(chunks),
            chunk_rank=next((i for i, rel in enumerate(chunks, 1) if rel), None),
            sentence_rank=next((i for i, rel in enumerate(sentences, 1) if rel), None),
            em=m.max_over_gold(m.exact_match, answer, row.answers) if answered else 0.0,
            f1=m.max_over_gold(m.f1_score, answer, row.answers) if answered else 0.0,
            contains=m.contains_gold(row.answers, answer, cited) if answered else 0.0,
        )
    return out


def _verbatim(pred: Prediction, texts: dict[str, str]) -> bool | None:
    """The answer is the file's text at the offsets it claims (None when there is no answer)."""
    if not pred.answer or pred.error:
        return None
    span = pred.answer_span
    if span is None or span.source not in texts:
        return False
    return m.offsets_exact(texts[span.source], span.start, span.end, pred.answer)


def aggregate(scored: list[dict]) -> dict:
    """The split's metrics for one configuration (None where a metric has no rows to measure)."""
    answerable = [r for r in scored if r["answerable"]]
    located = [r for r in answerable if r["evidence_found"]]
    unanswerable = [r for r in scored if not r["answerable"]]
    exact = [flag for r in scored for flag in r["offsets_exact"]]
    millis = [r["seconds"] * 1000 for r in scored]
    correct = [(r["answered"] and r["right"]) if r["answerable"] else not r["answered"] for r in scored]
    tiered = [r for r in scored if r.get("tier")]
    sure = [r for r in tiered if r["tier"] == "confident"]
    unsure = [r for r in tiered if r["tier"] == "unsure"]
    return {
        "confident_share": m.rate(r["tier"] == "confident" for r in tiered),
        "confident_precision": m.rate(r["right"] for r in sure),
        "unsure_share": m.rate(r["tier"] == "unsure" for r in tiered),
        "unsure_precision": m.rate(r["right"] for r in unsure),
        "abstained_share": m.rate(r["tier"] == "none" for r in tiered),
        "hit@1": m.mean(r["hit1"] for r in located),
        "hit@3": m.mean(r["hit3"] for r in located),
        f"recall@{RECALL_K}": m.mean(r["recall5"] for r in located),
        "mrr": m.mean(r["rr"] for r in located),
        "em": m.mean(r["em"] for r in answerable),
        "f1": m.mean(r["f1"] for r in answerable),
        "contains_gold": m.mean(r["contains"] for r in answerable),
        "abstention_unanswerable": m.rate(not r["answered"] for r in unanswerable),
        "false_abstention": m.rate(not r["answered"] for r in answerable),
        "exact_offsets": m.rate(exact),
        "answer_verbatim": m.rate(r["answer_verbatim"] for r in scored if r["answer_verbatim"] is not None),
        "accuracy": m.rate(correct),
        "latency_median_ms": m.median(millis),
        "latency_p95_ms": m.percentile(millis, 95),
        "rows": len(scored),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "citations": len(exact),
    }


def threshold_curve(rows: list[Row], preds: list[Prediction], gold: list[list[Span]]) -> list[dict]:
    """Coverage, selective accuracy and SQuAD-v2 score at every threshold where they can change."""
    confs = sorted({p.confidence for p in preds})
    thresholds = [0.0] + [(a + b) / 2 for a, b in zip(confs, confs[1:])]
    if confs:
        thresholds.append(min(1.0, confs[-1] + 1e-6))
    right = [is_right(r, g, p) for r, g, p in zip(rows, gold, preds)]
    return [curve_point(rows, preds, right, t) for t in thresholds]


def curve_point(rows: list[Row], preds: list[Prediction], right: list[bool], threshold: float) -> dict:
    """Coverage (share answered), accuracy of the answers given, and the share handled correctly."""
    answered = [p.answered(threshold) for p in preds]
    n_answered = sum(answered)
    good = sum(a and ok for a, ok in zip(answered, right))
    correct = sum((a and ok) if r.answerable else not a for r, a, ok in zip(rows, answered, right))
    return {
        "threshold": round(threshold, 6),
        "coverage": n_answered / len(preds) if preds else 0.0,
        "accuracy": good / n_answered if n_answered else None,
        "score": correct / len(preds) if preds else 0.0,
    }
