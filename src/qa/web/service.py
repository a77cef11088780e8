"""The one answering service the chat and the JSON API share: index holder, model, bounded concurrency."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from ..indexing import embedder
from ..answering.ask import ask
from ..answering.requests import check_history, check_text
from ..types import Answer
from .holder import IndexHolder, manifest_summary

DEFAULT_CONCURRENCY = 4
log = logging.getLogger("qa.web")


def concurrency_from_env() -> int:
    try:
        return max(1, int(os.environ.get("QA_WEB_CONCURRENCY", DEFAULT_CONCURRENCY)))
    except ValueError:
        return DEFAULT_CONCURRENCY


class QAService:
    """Answers questions from the held index; at most `concurrency` answers are computed at once."""

    def __init__(self, index_dir: Path | str, concurrency: int | None = None):
        self.holder = IndexHolder(index_dir)
        self.concurrency = concurrency or concurrency_from_env()
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def warm_up(self) -> None:
        """Load the index and the model and answer once, so the first user does not wait."""
        index = self.holder.get()
        embedder.get_model()
        try:
            ask(index, "When was the index built?")
        except Exception:   # a bug in answering must not stop the server: each request reports its own error
            log.exception("warm-up question failed")

    def ask(self, question, history=None) -> Answer:
        """RequestError (qa.answering.requests) for a question or history outside the contract, QuestionError for
        an empty or over-long question, IndexError_ when no index can be loaded."""
        question = check_text(question, "question")
        history = check_history(history)
        index = self.holder.get()
        with self._slots:
            return ask(index, question, history=history)

    def summary(self) -> dict:
        return manifest_summary(self.holder.get())
