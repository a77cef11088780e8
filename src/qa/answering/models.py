"""The trained pair that answers: the reader and the answer model fitted on its candidates.

The answer model's file says how its reader is read (`"reading"`: one passage of the top sentences, or
the windows of the top three sentences, the earlier way), since its weights were fitted on exactly those
candidates. `ask()` uses the committed pair; the evaluation can give it another (the previous product).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..indexing.store import Index
from .answer_model import AnswerModel, load_answer_model
from .candidates import Candidate, PassageSettings, read_candidates, read_passage
from .question import QuestionInfo
from .reader import Reader, ReaderMissing, get_reader
from .retrieval import Scored


@dataclass(frozen=True)
class Models:
    reader: Reader
    answer_model: AnswerModel

    @property
    def reading(self) -> dict:
        return self.answer_model.meta.get("reading") or {"strategy": "windows"}

    def candidates(self, index: Index, info: QuestionInfo, question: str, ranked: list[Scored],
                   qterms: list[str]) -> list[Candidate]:
        if self.reading.get("strategy") == "passage":
            return read_passage(index, self.reader, info, question, ranked, qterms,
                                PassageSettings.from_json(self.reading))
        return read_candidates(index, self.reader, info, question, ranked, qterms)


MODELS_ENV = "QA_MODELS"        # a folder with reader/ and answer-model.json to answer with instead


def default_models() -> Models:
    """The committed reader and answer model (read again when `qa train` rewrites the answer model), or
    the pair in the folder $QA_MODELS names (to serve or measure another pair, e.g. the previous one)."""
    other = os.environ.get(MODELS_ENV, "").strip()
    if other:
        return models_from(other)
    model = load_answer_model()
    reader = get_reader()
    if model is None or not reader.available:
        raise ReaderMissing("the trained reader or answer model is missing; run `make train`")
    return Models(reader, model)


_loaded: dict[str, Models] = {}
_lock = threading.Lock()


def models_from(folder: Path | str) -> Models:
    """A reader and answer model kept together in `folder` (reader/ and answer-model.json), e.g. the
    previous product's, loaded once per process."""
    folder = Path(folder)
    key = str(folder.resolve())
    with _lock:
        if key not in _loaded:
            model = load_answer_model(folder / "answer-model.json")
            reader = Reader(folder / "reader")
            if model is None or not reader.available:
                raise ReaderMissing(f"no reader and answer model in {folder}")
            _loaded[key] = Models(reader, model)
        return _loaded[key]
