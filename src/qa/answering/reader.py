"""The span reader: a MiniLM encoder fine-tuned here on SQuAD articles (see models/reader/MODEL_CARD.md).

Given a question and a window of text, it scores every span of the window as the answer and the
window's [CLS] token as "no answer here". Loaded once per process from the repository; nothing is
downloaded.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..indexing import onnx_backend
from ..config import PROJECT_ROOT
from ..indexing.wordpieces import WordPieces

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

READER_DIR = PROJECT_ROOT / "models" / "reader"
MAX_TOKENS = 192          # question + window; longer windows are cut at the end (a model may set its own)
MAX_PASSAGE_TOKENS = 512  # a passage is cut to its budget before reading; this only bounds a mistake
MAX_QUESTION_TOKENS = 64  # a longer question is cut to its beginning (training questions are far shorter)
MAX_ANSWER_TOKENS = 30


class ReaderMissing(RuntimeError):
    """The reader's weights are not in the repository; `make train` makes them."""


@dataclass
class Reading:
    start: int            # the best span, as character offsets into the window
    end: int
    span_score: float     # start + end logit of that span
    null_score: float     # start + end logit of [CLS]: "no answer in this window"

    @property
    def margin(self) -> float:
        """How much more the span is believed than "no answer"."""
        return self.span_score - self.null_score


class Reader:
    def __init__(self, folder: Path | str = READER_DIR, backend: str | None = None, int8: bool | None = None):
        self.folder = Path(folder)
        self.backend = backend      # "torch" or "onnx"; None: the QA_BACKEND setting (qa.indexing.onnx_backend)
        self.int8 = int8            # ONNX only; None: the QA_ONNX_INT8 setting
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return (self.folder / "config.json").exists()

    def warm_up(self) -> "Reader":
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if not self.available:
                        raise ReaderMissing(f"no reader in {self.folder}; run `make train`")
                    self._tokenizer = WordPieces(self.folder)
                    self.backend = onnx_backend.backend(self.backend)
                    if self.backend == "onnx":      # exported once per weights, then from the cache; no torch
                        if self.int8 is None:
                            self.int8 = onnx_backend.int8_enabled("reader")
                        model = onnx_backend.load("reader", lambda: onnx_backend.OnnxReader(
                            self.folder, int8=self.int8), self._torch_model)
                        if not isinstance(model, onnx_backend.OnnxReader):
                            self.backend = "torch"      # the export could not be written: see onnx_backend.load
                        self._model = model             # last: read() runs once _model is set
                    else:
                        self._model = self._torch_model()
        return self

    def _torch_model(self):
        import torch
        from transformers import AutoModelForQuestionAnswering
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        model = AutoModelForQuestionAnswering.from_pretrained(str(self.folder), dtype=torch.float32)
        return model.eval()

    def _logits(self, question: str, contexts: list[str], max_length: int = MAX_TOKENS):
        """Start and end logits of every word piece of each (question, context) pair, and the encodings."""
        self.warm_up()
        # the window is cut to fit, never the question: a question too long to leave room is cut first
        question = self._tokenizer.cut(question, MAX_QUESTION_TOKENS)
        encodings = self._tokenizer.encode([question] * len(contexts), contexts, max_length=max_length,
                                           strategy="only_second", pad=True)
        inputs = WordPieces.arrays(encodings)
        if self.backend == "onnx":
            starts, ends = self._model(inputs)
        else:
            import torch

            with torch.inference_mode():
                out = self._model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
            starts, ends = out.start_logits.float().numpy(), out.end_logits.float().numpy()
        return starts, ends, encodings

    def read(self, question: str, contexts: list[str]) -> list[Reading]:
        """The best span of each window, with its score and the window's no-answer score."""
        if not contexts:
            return []
        starts, ends, encodings = self._logits(question, contexts)
        return [best_span(starts[k], ends[k], np.asarray(e.offsets), None, mask=self._readable(e))
                for k, e in enumerate(encodings)]

    def _readable(self, encoding) -> np.ndarray:
        """The word pieces of the context a span may cover: not the question, padding, or a gap marker."""
        offsets = np.asarray(encoding.offsets)
        return (np.array([sid == 1 for sid in encoding.sequence_ids]) & (offsets[:, 1] > offsets[:, 0])
                & ~np.isin(np.asarray(encoding.ids), self._tokenizer.special_ids))

    def count(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, no special tokens (for fitting passages to a budget)."""
        self.warm_up()
        return [len(e.ids) for e in self._tokenizer.encode(list(texts), special=False)]

    def read_parts(self, question: str, context: str, parts: list[tuple[int, int]]) -> list[Reading]:
        """Read one passage once; the best span inside each part (a sentence: `parts` are its character
        ranges in `context`), each with the passage's no-answer score. A part cut off by the length limit
        gets no span (score -inf)."""
        starts, ends, encodings = self._logits(question, [context], MAX_PASSAGE_TOKENS)
        e = encodings[0]
        offsets = np.asarray(e.offsets)
        inside = self._readable(e)
        out = []
        for a, b in parts:
            mask = inside & (offsets[:, 0] >= a) & (offsets[:, 1] <= b)
            out.append(best_span(starts[0], ends[0], offsets, None, mask=mask))
        return out


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, offsets: np.ndarray, sequence_ids,
              max_tokens: int = MAX_ANSWER_TOKENS, mask: np.ndarray | None = None) -> Reading:
    """The highest-scoring span inside the context (start <= end, at most max_tokens long); `mask`, if
    given, says which word pieces a span may cover instead (they must also be consecutive)."""
    context = mask if mask is not None else np.array([sid == 1 for sid in sequence_ids])
    idx = np.flatnonzero(context)
    null = float(start_logits[0] + end_logits[0])
    if not len(idx):
        return Reading(0, 0, float("-inf"), null)
    s, e = start_logits[idx], end_logits[idx]
    scores = s[:, None] + e[None, :]
    n = len(idx)
    i, j = np.indices((n, n))
    scores = np.where((j >= i) & (j - i < max_tokens) & (idx[j] - idx[i] == j - i), scores, -np.inf)
    k = int(np.argmax(scores))
    a, b = divmod(k, n)
    return Reading(int(offsets[idx[a]][0]), int(offsets[idx[b]][1]), float(scores[a, b]), null)


_shared: dict[tuple, Reader] = {}


def get_reader() -> Reader:
    """The process's reader for the backend settings (QA_BACKEND, QA_ONNX_INT8), loaded on first use."""
    name = onnx_backend.backend()
    key = (name, name == "onnx" and onnx_backend.int8_enabled("reader"))
    if key not in _shared:
        _shared[key] = Reader(backend=name, int8=key[1])
    return _shared[key]
