"""`qa train`: the reader, then the answer/abstain model, each written under models/ with its log."""
from __future__ import annotations

import sys
import time

from ..indexing import onnx_backend
from ..answering.reader import READER_DIR


def run_training(only: str | None = None) -> int:
    """Train on torch whatever QA_BACKEND says: the reader is trained by torch, and the answer model is fitted
    on its torch readings, so that `make train` gives the same models on every machine."""
    with onnx_backend.using("torch"):
        return _run_training(only)


def _run_training(only: str | None) -> int:
    log_path = READER_DIR / "training.log"
    READER_DIR.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a" if only == "answer-model" else "w", encoding="utf-8") as fh:
        def log(message: str) -> None:
            line = f"{time.strftime('%H:%M:%S')} {message}"
            print(line, file=sys.stderr, flush=True)
            fh.write(line + "\n")
            fh.flush()

        if only in (None, "reader"):
            from .train_reader import train_reader
            train_reader(READER_DIR, log)
        if only in (None, "answer-model"):
            from .fit_answer_model import fit_answer_model
            fit_answer_model(log)
    from .cards import write_cards
    write_cards()
    return 0
