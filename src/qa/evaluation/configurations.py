"""The configurations compared side by side: the engine in three retrieval modes, and the baseline.

Each configuration answers one row at a time and returns a Prediction that
carries everything the metrics need, independent of the gold answer: the
answer, its confidence and signals (at threshold 0, so that any threshold can
be applied afterwards), the citations with their offsets, the ranked
sentences and chunks as file spans, and the time the answer took.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..indexing import onnx_backend
from ..config import RetrievalSettings
from ..indexing.store import Index
from .baseline import BaselineIndex
from .datasets import Row, Span, source_path

ENGINE_MODES = ("hybrid", "dense", "keyword")
BASELINE = "baseline"
PREVIOUS = "previous"       # the previous product, when `qa eval` is given its models: the column to beat
# the product on each inference backend, as (QA_BACKEND, QA_ONNX_INT8); "hybrid" runs on the process's own
BACKEND_VARIANTS = {"hybrid-torch": ("torch", ""), "hybrid-onnx": ("onnx", ""),
                    "hybrid-onnx-int8": ("onnx", "reader")}
CONFIGURATIONS = ("hybrid", "dense", "keyword", BASELINE, *BACKEND_VARIANTS)
COMPARED = ("hybrid", PREVIOUS, BASELINE)      # the overview's columns: the product, what it replaces, the floor


def backend_names() -> dict[str, str]:
    """The configuration that runs the product on each backend: "hybrid" itself for the process's backend
    (not run twice), "hybrid-<backend>" for the others."""
    current = (onnx_backend.backend(), "reader" if onnx_backend.int8_enabled("reader") else "")
    return {name: "hybrid" if variant == current else name for name, variant in BACKEND_VARIANTS.items()}


def default_configurations() -> tuple[str, ...]:
    """Every configuration, without a backend variant that would repeat "hybrid"."""
    repeated = {name for name, runs_as in backend_names().items() if runs_as == "hybrid"}
    return tuple(name for name in CONFIGURATIONS if name not in repeated)
DESCRIPTIONS = {
    "hybrid": "engine, dense + keyword fusion, trained reader and answer model (the product, default backend)",
    "hybrid-torch": "the product with both models run by torch",
    "hybrid-onnx": "the product with both models run by ONNX Runtime (fp32)",
    "hybrid-onnx-int8": "the product on ONNX Runtime with the reader's weights in int8 (embedder fp32)",
    "dense": "engine, dense retrieval only, trained reader and answer model",
    "keyword": "engine, BM25 keyword retrieval only, trained reader and answer model",
    BASELINE: "hand-built: 500-char chunks (50 overlap), FAISS flat, top chunk's most similar sentence",
    PREVIOUS: "the previous product: the same engine with the reader and answer model it had before (eval/previous.json)",
}


@dataclass
class Cited:
    source: str
    start: int
    end: int
    text: str


@dataclass
class Prediction:
    answer: str                      # the answer it gives when it does not abstain
    confidence: float
    can_abstain: bool
    citations: list[Cited]
    sentences: list[Span]            # ranked, best first (at least the top 3)
    chunks: list[Span]               # ranked, best first
    seconds: float                   # question to answer
    signals: dict = field(default_factory=dict)
    error: str | None = None
    answer_span: Span | None = None    # where the answer lies in its file, as the configuration claims

    def answered(self, threshold: float) -> bool:
        return not self.can_abstain or (self.error is None and self.confidence >= threshold)


class EngineConfiguration:
    """The product's ask() in one retrieval mode."""

    def __init__(self, mode: str, settings: RetrievalSettings, name: str | None = None,
                 backend: tuple[str, str] | None = None, models: Path | None = None):
        self.name = name or mode
        self.mode = mode
        self.backend = backend      # (QA_BACKEND, QA_ONNX_INT8) while answering; None: the process's setting
        self.models = models        # a folder with another reader and answer model; None: the committed ones
        self.given = settings
        # always answer: thresholds are applied afterwards
        self.settings = replace(settings, extra={**settings.extra, "answer_threshold": 0.0})

    @property
    def threshold(self) -> float:
        """The abstention threshold ask() applies for this configuration."""
        from ..answering.answer_model import load_answer_model
        if self.models is not None:
            return self._models().answer_model.threshold
        return self.given.extra.get("answer_threshold", load_answer_model().threshold)

    @property
    def confident(self) -> float | None:
        """The threshold from which an answer is given as confident (None: never)."""
        from ..answering.answer_model import load_answer_model
        return (self._models().answer_model if self.models is not None else load_answer_model()).confident

    def _models(self):
        from ..answering.models import models_from
        return models_from(self.models) if self.models is not None else None

    def prepare(self, index: Index) -> None:
        self.index = index

    def run(self, row: Row) -> Prediction:
        from ..answering.ask import QuestionError, ask

        started = time.perf_counter()
        with onnx_backend.using(*self.backend) if self.backend else nullcontext():
            try:
                answer = ask(self.index, row.question, history=row.history or None, settings=self.settings,
                             mode=self.mode, id=row.id, models=self._models())
            except QuestionError as exc:
                return Prediction("", 0.0, True, [], [], [], time.perf_counter() - started, error=str(exc))
            seconds = time.perf_counter() - started
            chunks, sentences = self._ranking(answer.resolved_question or answer.question)
        cited_ids = [c.sentence for c in answer.citations]
        ordered = cited_ids[:1] + [s for s in sentences if s not in cited_ids[:1]]
        spans = [self._sentence_span(i) for i in ordered]
        return Prediction(
            answer=answer.answer,
            confidence=answer.confidence,
            can_abstain=True,
            citations=[Cited(c.source, c.start, c.end, c.text) for c in answer.citations],
            sentences=spans,
            chunks=[Span(self.index.chunks[c].source, self.index.chunks[c].start, self.index.chunks[c].end)
                    for c in chunks],
            seconds=seconds,
            signals=dict(answer.signals),
            answer_span=Span(answer.answer_source, answer.answer_start, answer.answer_end)
            if answer.answer_source is not None else None,
        )

    def _ranking(self, question: str) -> tuple[list[int], list[int]]:
        """The ranked chunks and sentences, as ask() computes them."""
        from ..indexing.keyword import terms
        from ..answering.retrieval import rank_chunks, rank_sentences

        qvec = _embed_query(question, onnx_backend.backend(), onnx_backend.int8_enabled("embedder"))
        qterms = terms(question)
        chunks = rank_chunks(self.index, qvec, qterms, self.settings, self.mode)
        sentences = rank_sentences(self.index, qvec, qterms, chunks, self.settings, self.mode)
        return [c.id for c in chunks], [s.id for s in sentences]

    def _sentence_span(self, sid: int) -> Span:
        s = self.index.sentences[sid]
        return Span(s.source, s.start, s.end)


class BaselineConfiguration:
    """The hand-built baseline: never abstains, answers with a whole (naively split) sentence."""

    name = BASELINE
    threshold = 0.0

    def __init__(self):
        self._built: dict[tuple, BaselineIndex] = {}

    def prepare(self, index: Index) -> None:
        sources = tuple(d["source"] for d in index.manifest["sources"])
        key = (index.build_id, sources)
        if key not in self._built:
            self._built[key] = BaselineIndex.build({s: source_path(s) for s in sources})
        self.baseline = self._built[key]

    def run(self, row: Row) -> Prediction:
        started = time.perf_counter()
        ranked, sentences = self.baseline.search(row.question)
        seconds = time.perf_counter() - started
        chunks = [self.baseline.chunks[i] for i in ranked]
        best, similarity = sentences[0] if sentences else (None, 0.0)
        citations = [Cited(best.source, best.start, best.end, " ".join(best.text.split()))] if best else []
        return Prediction(
            answer=citations[0].text if citations else "",
            confidence=similarity,
            can_abstain=False,
            citations=citations,
            sentences=[Span(s.source, s.start, s.end) for s, _ in sentences],
            chunks=[Span(c.source, c.start, c.end) for c in chunks],
            seconds=seconds,
            answer_span=Span(best.source, best.start, best.end) if best else None,
        )


def make_configurations(settings: RetrievalSettings, names=None, previous: Path | None = None) -> list:
    """The configurations `names` (default: every one); `previous`, a folder of the previous product's
    models, adds its configuration."""
    out = []
    names = default_configurations() if names is None else names
    if previous is not None:
        out.append(EngineConfiguration("hybrid", settings, name=PREVIOUS, models=previous))
    for name in names:
        if name == BASELINE:
            out.append(BaselineConfiguration())
        elif name in BACKEND_VARIANTS:
            out.append(EngineConfiguration("hybrid", settings, name=name, backend=BACKEND_VARIANTS[name]))
        else:
            out.append(EngineConfiguration(name, settings))
    return out


@lru_cache(maxsize=4096)
def _embed_query(question: str, backend: str, int8: bool):
    """The question's vector; the backend settings (current ones, passed for the cache key) pick the model."""
    from ..indexing import embedder
    return embedder.embed_query(question)

