"""How close the closest passages are: the cutoff below which an abstention shows none (issue 20, item 15).

For every question set in eval/ (the article's dev and test, the second document's, the eight texts') the
question is asked of its own document and of every other one (an off-topic question: nothing there is
about it). Retrieval alone (no reader), as ask() ranks the chunks; what is measured is the dense (cosine)
similarity of the best chunk, the passage an abstention shows first:

    python -m qa.bench.closeness [--out eval/closeness.md]

The indexes are built once under eval/.work/closeness/ (not committed).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..answering.ask import retrieve
from ..answering.passages import MIN_PASSAGE_SIMILARITY
from ..config import PROJECT_ROOT, RetrievalSettings
from ..evaluation.corpora import document_index
from ..evaluation.datasets import load_dataset

WORK = PROJECT_ROOT / "eval" / ".work" / "closeness"
SETS = {PROJECT_ROOT / "eval" / "article-dev.jsonl": PROJECT_ROOT / "data" / "pak-us-diplomatic-relations.txt",
        PROJECT_ROOT / "eval" / "article-test.jsonl": PROJECT_ROOT / "data" / "pak-us-diplomatic-relations.txt",
        PROJECT_ROOT / "eval" / "second-test.jsonl": PROJECT_ROOT / "data" / "second" / "gpl-3.txt",
        **{path: PROJECT_ROOT / "data" / "texts" / f"{path.stem}.txt"
           for path in sorted((PROJECT_ROOT / "eval" / "texts").glob("*.jsonl"))}}
CUTOFFS = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35)


def top_similarity(index, question: str) -> float:
    r = retrieve(index, question, None, RetrievalSettings(), "hybrid")
    return max((c.dense for c in r.chunks[:3]), default=0.0)


def measure() -> dict[str, list[float]]:
    documents = sorted(set(SETS.values()))
    indexes = {doc: document_index(doc, WORK / f"{doc.stem}.index") for doc in documents}
    scores: dict[str, list[float]] = {"answerable": [], "unanswerable (on topic)": [], "off topic": []}
    for path, own in SETS.items():
        for row in load_dataset(path):
            kind = "answerable" if row.answerable else "unanswerable (on topic)"
            scores[kind].append(top_similarity(indexes[own], row.question))
            for doc, index in indexes.items():
                if doc != own and doc.stem != own.stem:
                    scores["off topic"].append(top_similarity(index, row.question))
        print(f"measured {path.name}", file=sys.stderr, flush=True)
    return scores


def report(scores: dict[str, list[float]]) -> str:
    lines = ["# Closest passages: how close is close",
             "",
             f"Produced by `python -m qa.bench.closeness`. The best of the three closest chunks' cosine similarity to "
             f"the question; an abstention shows a passage only at or above {MIN_PASSAGE_SIMILARITY} "
             "(`qa.answering.passages.MIN_PASSAGE_SIMILARITY`). Off topic: each question asked of every other "
             "document.",
             "",
             "| questions | n | p5 | p25 | median | p75 | p95 |",
             "|---|---|---|---|---|---|---|"]
    for kind, values in scores.items():
        v = np.array(values)
        p = np.percentile(v, [5, 25, 50, 75, 95])
        lines.append(f"| {kind} | {len(v):,} | " + " | ".join(f"{x:.2f}" for x in p) + " |")
    lines += ["", "| cutoff | answerable kept | on-topic unanswerable kept | off-topic hidden |", "|---|---|---|---|"]
    for cutoff in CUTOFFS:
        kept = {k: float(np.mean(np.array(v) >= cutoff)) for k, v in scores.items()}
        lines.append(f"| {cutoff:.2f} | {kept['answerable']:.3f} | {kept['unanswerable (on topic)']:.3f} | "
                     f"{1 - kept['off topic']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "closeness.md")
    args = parser.parse_args(argv)
    text = report(measure())
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
