"""The configurations compared side by side: the engine in three retrieval modes, and the baseline.

Each configuration answers one row at a time and returns a Prediction that
carries everything the metrics need, independent of the gold answer: the
answer, its confidence and signals (at threshold 0, so that any threshold can
be applied afterwards), the citations with their offsets, the ranked
sentences and chunks as file spans, and the time the answer took.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..config import RetrievalSettings
from ..index_store import Index
from .baseline import BaselineIndex
from .datasets import Row, Span, source_path

ENGINE_MODES = ("hybrid", "dense", "keyword")
RULES = "rules"
BASELINE = "baseline"
CONFIGURATIONS = ("hybrid", RULES, "dense", "keyword", BASELINE)
DESCRIPTIONS = {
    "hybrid": "engine, dense + keyword fusion, trained reader and answer model (the product)",
    RULES: "the previous product: hybrid retrieval, hand-written span rules, confidence calibrated on dev",
    "dense": "engine, dense retrieval only, trained reader and answer model",
    "keyword": "engine, BM25 keyword retrieval only, trained reader and answer model",
    BASELINE: "hand-built: 500-char chunks (50 overlap), FAISS flat, top chunk's most similar sentence",
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
    """The product's ask() in one retrieval mode, with the learned answerer or the rules it replaced."""

    def __init__(self, mode: str, settings: RetrievalSettings, answerer: str = "learned", name: str | None = None):
        self.name = name or mode
        self.mode = mode
        self.answerer = answerer
        self.recalibrate(settings)

    def recalibrate(self, settings: RetrievalSettings) -> None:
        self.calibrated = settings
        self.settings = replace(settings, abstain_threshold=0.0,     # always answer; thresholds come later
                                extra={**settings.extra, "answer_threshold": 0.0})

    @property
    def threshold(self) -> float:
        """The abstention threshold ask() applies for this configuration."""
        if self.answerer == "rules":
            return self.calibrated.abstain_threshold
        from ..learned.answer_model import load_answer_model
        return self.calibrated.extra.get("answer_threshold", load_answer_model().threshold)

    def prepare(self, index: Index) -> None:
        self.index = index

    def run(self, row: Row) -> Prediction:
        from ..answer import QuestionError, ask

        started = time.perf_counter()
        try:
            answer = ask(self.index, row.question, history=row.history or None, settings=self.settings,
                         mode=self.mode, id=row.id, answerer=self.answerer)
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
        from ..keyword import terms
        from ..retrieval import rank_chunks, rank_sentences

        qvec = _embed_query(question)
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


def make_configurations(settings: RetrievalSettings, names=CONFIGURATIONS) -> list:
    out = []
    for name in names:
        if name == BASELINE:
            out.append(BaselineConfiguration())
        elif name == RULES:
            out.append(EngineConfiguration("hybrid", settings, answerer="rules", name=RULES))
        else:
            out.append(EngineConfiguration(name, settings))
    return out


@lru_cache(maxsize=4096)
def _embed_query(question: str):
    from .. import embedder
    return embedder.embed_query(question)

