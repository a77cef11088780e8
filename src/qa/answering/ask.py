"""ask(): the one entry point that the chat, the API, the CLI and the evaluation call."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..config import RetrievalSettings
from ..indexing import embedder
from ..indexing.store import Index, normalise
from ..types import Answer, Citation, Passage
from .candidates import Candidate
from .followup import known_names, resolve
from .models import Models, default_models
from .passages import close_chunks
from .question import ANSWER_LABELS, QuestionInfo, analyse, question_terms
from .retrieval import Scored, rank_chunks, rank_sentences

MAX_QUESTION_CHARS = 1000
_SURROGATE = re.compile("[\ud800-\udfff]")


class QuestionError(ValueError):
    """A question that cannot be asked as given; the message says why."""


def validate_question(question) -> str:
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty; type a question about the document")
    if _SURROGATE.search(question):
        raise QuestionError("the question holds an unpaired UTF-16 surrogate; send valid Unicode text")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is too long ({len(question):,} characters; the limit is "
                            f"{MAX_QUESTION_CHARS:,})")
    return question


def ask(index: Index, question: str, history=None, settings: RetrievalSettings | None = None,
        mode: str = "hybrid", id: str | None = None, models: Models | None = None) -> Answer:
    """Answer a question from the index with a verbatim span and cited sentences, or abstain.

    The trained reader reads the top-ranked sentences; the answer model gives each candidate span the
    probability that it is right, and its two thresholds make the tier: below the lower one the bot
    abstains, at or above the upper one the answer is confident, between them it is given as unsure.
    `models`: another trained pair than the committed one (the evaluation's previous product).
    """
    settings = settings or RetrievalSettings()
    question = validate_question(question)
    r = retrieve(index, question, history, settings, mode)
    result = Answer(question=question, answer="", abstained=True, confidence=0.0,
                    passages=[_passage(index, c) for c in close_chunks(r.chunks[:3], mode)],
                    resolved_question=r.resolved if r.resolved != question else None, id=id)
    if not r.sentences:
        return result
    models = models or default_models()
    model = models.answer_model
    candidates = models.candidates(index, r.info, r.resolved, r.sentences, r.info.terms)
    if not candidates:
        return result
    result.confidence, best = max(((model.probability(c.features), c) for c in candidates), key=lambda x: x[0])
    result.signals = dict(best.features)
    result.tier = model.tier(result.confidence, settings.extra.get("answer_threshold"))
    if result.tier == "none":
        return result
    result.citations = [_citation(index, 1, best.sentence)]
    sentence = index.sentences[best.sentence]
    result.answer = normalise(sentence.text[best.start:best.end])
    result.abstained = False
    result.answer_source = sentence.source
    result.answer_start, result.answer_end = sentence.start + best.start, sentence.start + best.end
    return result


@dataclass
class Retrieved:
    resolved: str                 # the question with what a follow-up leans on
    info: QuestionInfo
    qvec: np.ndarray
    chunks: list[Scored]
    sentences: list[Scored]


def retrieve(index: Index, question: str, history, settings: RetrievalSettings, mode: str) -> Retrieved:
    resolved = resolve(question, history, known_names(index))
    info = analyse(question)
    info.terms = question_terms(resolved)
    qvec = embedder.embed_query(resolved)
    chunks = rank_chunks(index, qvec, info.terms, settings, mode)
    sentences = rank_sentences(index, qvec, info.terms, chunks, settings, mode,
                               ANSWER_LABELS.get(info.qtype, ()))
    return Retrieved(resolved, info, qvec, chunks, sentences)


def answer_candidates(index: Index, question: str, history=None, settings: RetrievalSettings | None = None,
                      mode: str = "hybrid", models: Models | None = None) -> list[Candidate]:
    """What the answer model chooses from (for fitting it): the reader's candidates with their features."""
    r = retrieve(index, validate_question(question), history, settings or RetrievalSettings(), mode)
    models = models or default_models()
    return models.candidates(index, r.info, r.resolved, r.sentences, r.info.terms) if r.sentences else []


def _neighbour(index: Index, sid: int, step: int) -> str:
    j = sid + step
    if 0 <= j < len(index.sentences) and index.sentences[j].source == index.sentences[sid].source:
        return normalise(index.sentences[j].text)
    return ""


def _citation(index: Index, n: int, sid: int) -> Citation:
    s = index.sentences[sid]
    return Citation(n=n, source=s.source, sentence=sid, start=s.start, end=s.end, text=normalise(s.text),
                    before=_neighbour(index, sid, -1), after=_neighbour(index, sid, 1),
                    **index.position(s.source, s.start, s.end))


def _passage(index: Index, scored: Scored) -> Passage:
    chunk = index.chunks[scored.id]
    text = " ".join(normalise(index.sentences[i].text) for i in range(chunk.first, chunk.last + 1))
    return Passage(source=chunk.source, start=chunk.start, end=chunk.end, text=text, score=round(scored.score, 4))
