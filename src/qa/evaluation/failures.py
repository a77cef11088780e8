"""Why a question failed, in the order a fix would have to happen: retrieval, sentence, span, abstention."""
from __future__ import annotations

from . import metrics as m
from .configurations import Prediction
from .datasets import Row

CAUSES = {
    "error": "the question was refused",
    "missing evidence": "dataset: the evidence phrase is not in the document",
    "retrieval miss": "no gold sentence in the top-5 chunks",
    "sentence ranking": "gold chunk retrieved, but the top sentence is not a gold sentence",
    "second sentence": "two-sentence answer: the right first sentence, but the gold answer needs the other one too",
    "answer outside citation": "right top sentence, yet no gold answer inside the answer or the cited sentences",
    "span: whole sentence": "right sentence, but no short span was found: the answer is the whole sentence",
    "span: wrong phrase": "right sentence, but the short answer is another phrase of it (F1 < 0.5)",
    "span: boundaries": "right sentence and phrase, but the span is too long or too short (0.5 <= F1 < 1)",
    "false abstention": "would have answered right, but abstained",
    "answered unanswerable": "the document does not say, but it answered",
}


def classify(row: Row, scored: dict, pred: Prediction) -> dict | None:
    """A failure record for a row the configuration did not get fully right, or None."""
    cause = _cause(row, scored, pred)
    if cause is None:
        return None
    return {
        "id": row.id,
        "cause": cause,
        "question": row.question,
        "type": row.type,
        "expected": row.answers,
        "evidence": row.evidence,
        "returned": pred.answer,
        "abstained": not scored["answered"],
        "confidence": scored["confidence"],
        "f1": round(m.max_over_gold(m.f1_score, pred.answer, row.answers), 3) if row.answerable else None,
        "sentence_rank": scored.get("sentence_rank"),
        "chunk_rank": scored.get("chunk_rank"),
        "cited": [c.text if len(c.text) <= 300 else c.text[:299] + "…" for c in pred.citations],
    }


def _cause(row: Row, scored: dict, pred: Prediction) -> str | None:
    if pred.error:
        return "error"
    if not row.answerable:
        return "answered unanswerable" if scored["answered"] else None
    if not scored["evidence_found"]:
        return "missing evidence"
    if not scored["recall5"] and not scored["hit1"]:
        return "retrieval miss"
    if not scored["hit1"]:
        return "sentence ranking"
    if not scored["right"]:
        return "second sentence" if len(row.evidence) > 1 else "answer outside citation"
    if not scored["answered"]:
        return "false abstention"
    if not scored["em"]:
        if pred.citations and m.collapse(pred.answer) == m.collapse(pred.citations[0].text):
            return "span: whole sentence"
        return "span: boundaries" if scored["f1"] >= 0.5 else "span: wrong phrase"
    return None
