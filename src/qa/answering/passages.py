"""Which of the closest chunks are close enough to show as passages (an abstention's "closest passages").

A passage is shown only when its chunk's cosine similarity to the question is at least
MIN_PASSAGE_SIMILARITY. Measured by `python -m qa.bench.closeness` (eval/closeness.md) over every eval
question set, each question asked of its own document and, as an off-topic question, of every other one:
see that report for the distributions and the cutoff's trade-off.
"""
from __future__ import annotations

MIN_PASSAGE_SIMILARITY = 0.25


def close_chunks(chunks: list, mode: str = "hybrid", cutoff: float = MIN_PASSAGE_SIMILARITY) -> list:
    """The chunks (qa.answering.retrieval.Scored, best first) whose dense similarity reaches `cutoff`; all of
    them in keyword-only mode, which computes no similarity."""
    if mode == "keyword":
        return list(chunks)
    return [c for c in chunks if c.dense >= cutoff]
