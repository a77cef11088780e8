"""How the reader should read: three windows (the earlier way) or one passage of the top sentences, and
how large a passage; compared on the validation sets with the reader alone choosing (its best span).

    python -m qa.training.reading [--reader DIR] [--out FILE]

For each way of reading: hit@1 (the sentence holding the chosen span is a gold one), F1 of the span, and
the median time the reader and the candidates' features take, per validation set (the SQuAD validation
articles, our validation texts, the Amazon validation reviews; every other question of the SQuAD
articles and reviews, to keep it short). Retrieval runs once per question and is shared by all.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ..answering.answer_model import AnswerModel
from ..answering.ask import retrieve, validate_question
from ..answering.models import Models
from ..answering.reader import READER_DIR, Reader
from ..config import RetrievalSettings
from ..evaluation import metrics as m
from ..evaluation.corpora import TEXT_SETS, squad_index, squad_rows, text_index
from ..evaluation.datasets import Span
from ..evaluation.splits import VALIDATION_TEXTS, amazon_split, squad_split
from ..indexing.store import normalise
from .fit_answer_model import our_rows

WAYS = {
    "three windows of 3 sentences": {"strategy": "windows"},
    "passage, 128 word pieces": {"strategy": "passage", "max_pieces": 128},
    "passage, 160 word pieces": {"strategy": "passage", "max_pieces": 160},
    "passage, 192 word pieces": {"strategy": "passage", "max_pieces": 192},
    "passage, 256 word pieces": {"strategy": "passage", "max_pieces": 256},
    "passage, 192, top sentence's neighbours": {"strategy": "passage", "max_pieces": 192, "neighbours": 1},
}
RESULT_FILE = "reading.json"


def _questions() -> dict[str, list]:
    """Per validation set: (index, row, gold spans, retrieved) for its answerable questions."""
    settings = RetrievalSettings()
    sets: dict[str, list] = {}

    def add(name, index, rows, gold):
        sets.setdefault(name, []).extend(
            (index, r, g, retrieve(index, validate_question(r.question), None, settings, "hybrid"))
            for r, g in zip(rows, gold) if r.answerable)

    for article in squad_split()[2]:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        add(article.title, index, rows[::2], gold[::2])
    for stem in VALIDATION_TEXTS:
        index = text_index(stem)
        add(stem, index, *our_rows(TEXT_SETS / f"{stem}.jsonl", index))
    for article in amazon_split()["validation"]:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        add("Amazon validation reviews", index, rows[::2], gold[::2])
    return sets


def compare(reader: Reader, ways: dict = WAYS, log=print) -> dict:
    sets = _questions()
    reader.warm_up()
    out = {}
    for name, reading in ways.items():
        models = Models(reader, AnswerModel([], [], [], [], 0.0, 0.0, {"reading": reading}))
        per_set = {}
        for set_name, items in sets.items():
            hits, f1s, ms = [], [], []
            for index, row, gold, r in items:
                started = time.perf_counter()
                candidates = models.candidates(index, r.info, r.resolved, r.sentences, r.info.terms)
                ms.append((time.perf_counter() - started) * 1000)
                if not candidates:
                    hits.append(False)
                    f1s.append(0.0)
                    continue
                # windows each have their own no-answer score; one passage has one
                best = max(candidates, key=lambda c: c.reading.span_score - (c.reading.null_score
                                                                              if reading["strategy"] == "windows" else 0))
                s = index.sentences[best.sentence]
                hits.append(any(Span(s.source, s.start, s.end).overlaps(g) for g in gold))
                f1s.append(m.max_over_gold(m.f1_score, normalise(s.text[best.start:best.end]), row.answers))
            per_set[set_name] = {"questions": len(items), "hit@1": round(float(np.mean(hits)), 4),
                                 "f1": round(float(np.mean(f1s)), 4), "median_ms": round(float(np.median(ms)), 1)}
        per_set["mean"] = {k: round(float(np.mean([v[k] for v in per_set.values()])), 4)
                           for k in ("hit@1", "f1", "median_ms")}
        out[name] = {"reading": reading, "sets": per_set}
        log(f"{name}: {json.dumps(per_set['mean'])}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training.reading", description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=READER_DIR)
    parser.add_argument("--out", type=Path, default=READER_DIR / RESULT_FILE)
    args = parser.parse_args(argv)
    result = compare(Reader(args.reader))
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
