"""Which kinds of made negatives teach the reader to say "no answer here" without making it refuse answers.

    python -m qa.training.negatives [--examples 8000] [--out models/reader]

Trains a reader per mix of negatives (the same examples budget, seed and recipe, a constant learning
rate after warm-up), each adding one kind to the one before, and validates each like the committed reader
(`train_reader.Validator`): the no-answer AUC against SQuAD's real unanswerable questions, and how often
the reader alone abstains ("no answer" outscoring its best span) on answerable passages and on
unanswerable ones, on the SQuAD validation articles and our validation texts. Writes negatives.json
beside the reader (its model card shows it).
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from ..answering.reader import READER_DIR
from .examples import Mix
from .train_reader import hyperparameters, train_reader

MIXES = {
    "positives only": {"near_miss": 0.0, "swap": 0.0, "other_article": 0.0},
    "+ near-miss passages": {"swap": 0.0, "other_article": 0.0},
    "+ swapped names, numbers, years": {"other_article": 0.0},
    "+ other articles (the recipe)": {},
}
RESULT_FILE = "negatives.json"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training.negatives", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8000)
    parser.add_argument("--out", type=Path, default=READER_DIR)
    args = parser.parse_args(argv)
    results = {}
    for name, change in MIXES.items():
        hp = {**hyperparameters(), **vars(Mix()), **change, "examples": args.examples}
        with tempfile.TemporaryDirectory() as tmp:
            record = train_reader(Path(tmp), log=lambda m: print(m, flush=True), hp=hp, curve=[args.examples])
        results[name] = {"mix": {k: hp[k] for k in ("near_miss", "swap", "other_article")},
                         **record["curve"][-1]}
        print(name, json.dumps(results[name]), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)       # after every mix: a run stopped early keeps them
        (args.out / RESULT_FILE).write_text(json.dumps({"examples": args.examples, "mixes": results}, indent=1)
                                            + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
