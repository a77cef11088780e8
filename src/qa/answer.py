"""ask(): the one entry point that the chat, the API, the CLI and the evaluation call."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from . import embedder
from .config import CALIBRATION_FILE, RetrievalSettings, load_retrieval_settings
from .followup import resolve
from .index_store import Index, normalise
from .keyword import terms
from .learned.answer_model import load_answer_model
from .learned.candidates import Candidate, read_candidates
from .learned.reader import ReaderMissing, get_reader
from .question import ANSWER_LABELS, QuestionInfo, analyse, question_names, question_terms
from .retrieval import Scored, rank_chunks, rank_sentences
from .spans import extract_span, has_wanted_type
from .types import Answer, Citation, Passage

MAX_QUESTION_CHARS = 1000
_SURROGATE = re.compile("[\ud800-\udfff]")
_settings: tuple[float | None, RetrievalSettings] | None = None


class QuestionError(ValueError):
    """A question that cannot be asked as given; the message says why."""


def default_settings() -> RetrievalSettings:
    """The calibrated settings, read again when `qa eval` rewrites the calibration file."""
    global _settings
    try:
        stamp = CALIBRATION_FILE.stat().st_mtime
    except OSError:
        stamp = None
    if _settings is None or _settings[0] != stamp:
        _settings = (stamp, load_retrieval_settings())
    return _settings[1]


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
        mode: str = "hybrid", id: str | None = None, answerer: str | None = None) -> Answer:
    """Answer a question from the index with a verbatim span and cited sentences, or abstain.

    `answerer`: "learned" (the trained reader and answer model, the default when they are in the
    repository) or "rules" (the hand-written span rules and calibrated confidence they replaced).
    """
    settings = settings or default_settings()
    question = validate_question(question)
    r = _retrieve(index, question, history, settings, mode)
    result = Answer(question=question, answer="", abstained=True, confidence=0.0,
                    passages=[_passage(index, c) for c in r.chunks[:3]],
                    resolved_question=r.resolved if r.resolved != question else None, id=id)
    if not r.sentences:
        return result
    model = load_answer_model() if (answerer or "learned") == "learned" else None
    if model is not None and get_reader().available:
        cited, start, end = _learned_answer(index, r, model, result)
        threshold = settings.extra.get("answer_threshold", model.threshold)
    elif answerer == "learned":
        raise ReaderMissing("the trained reader or answer model is missing; run `make train`")
    else:
        cited, start, end = _rule_answer(index, r, settings, result)
        threshold = settings.abstain_threshold
    if result.confidence < threshold:
        return result
    result.citations = [_citation(index, n, sid) for n, sid in enumerate(cited, 1)]
    best = index.sentences[cited[0]]
    result.answer = normalise(best.text[start:end])
    result.abstained = False
    result.answer_source, result.answer_start, result.answer_end = best.source, best.start + start, best.start + end
    return result


@dataclass
class Retrieved:
    resolved: str                 # the question with what a follow-up leans on
    info: QuestionInfo
    qvec: np.ndarray
    chunks: list[Scored]
    sentences: list[Scored]


def _retrieve(index: Index, question: str, history, settings: RetrievalSettings, mode: str) -> Retrieved:
    resolved = resolve(question, history)
    info = analyse(question)
    info.terms = question_terms(resolved)
    qvec = embedder.embed_query(resolved)
    chunks = rank_chunks(index, qvec, info.terms, settings, mode)
    sentences = rank_sentences(index, qvec, info.terms, chunks, settings, mode,
                               ANSWER_LABELS.get(info.qtype, ()))
    return Retrieved(resolved, info, qvec, chunks, sentences)


def answer_candidates(index: Index, question: str, history=None, settings: RetrievalSettings | None = None,
                      mode: str = "hybrid") -> list[Candidate]:
    """What the answer model chooses from (for fitting it): the reader's candidates with their features."""
    r = _retrieve(index, validate_question(question), history, settings or default_settings(), mode)
    return read_candidates(index, get_reader(), r.info, r.resolved, r.sentences, r.info.terms) if r.sentences else []


def _learned_answer(index: Index, r: Retrieved, model, result: Answer) -> tuple[list[int], int, int]:
    """The reader's span in the candidate the answer model trusts most; its probability is the confidence."""
    candidates = read_candidates(index, get_reader(), r.info, r.resolved, r.sentences, r.info.terms)
    result.confidence, best = max(((model.probability(c.features), c) for c in candidates), key=lambda x: x[0])
    result.signals = dict(best.features)
    return [best.sentence], best.start, best.end


def _rule_answer(index: Index, r: Retrieved, settings: RetrievalSettings, result: Answer) -> tuple[list[int], int, int]:
    """The hand-written span rules over the top sentence, and the dev-calibrated confidence."""
    info, sentences = r.info, r.sentences
    best = index.sentences[sentences[0].id]
    span = extract_span(info, best.text, best.entities,
                        {t: index.keyword_sentences.idf(t) for t in info.terms})
    result.signals = confidence_signals(index, info, info.terms, sentences, r.qvec,
                                        has_wanted_type(info, span, best.entities))
    result.confidence = confidence(result.signals, settings)
    cited = [sentences[0].id] + [s.id for s in _supporting(index, sentences, settings)]
    start, end = span or (0, len(best.text))
    return cited, start, end




def confidence_signals(index: Index, info: QuestionInfo, qterms: list[str], ranked: list[Scored],
                       qvec: np.ndarray, typed_span: bool) -> dict[str, float]:
    """Evidence that the best sentence answers.

    dense: its similarity to the question; coverage: the IDF-weighted share of the question's terms
    found in it; missing: how specific the most specific question term is that the document knows but
    this sentence lacks ("signed with China" when it names no China); names: the share of the
    question's names and numbers it lacks; type: whether a span of the wanted type was found (for
    "who/when/where/how much", an entity of a wanted label, not a fallback noun phrase);
    margin: its lead over the runner-up.
    """
    best = ranked[0]
    sentence = index.sentences[best.id]
    present = set(terms(sentence.text))
    unique = list(dict.fromkeys(qterms))
    kw = index.keyword_sentences
    weights = [kw.idf(t) for t in unique]
    total = sum(weights)
    coverage = sum(w for t, w in zip(unique, weights) if t in present) / total if total else 0.0
    missing = max((w for t, w in zip(unique, weights) if t not in present and kw.knows(t)), default=0.0)
    names = question_names(info.text)
    names_missing = len(names - present) / len(names) if names else 0.0
    expects_type = info.qtype not in ("other", "noun", "manner", "action")
    type_fit = (1.0 if typed_span else 0.0) if expects_type else 0.5
    margin = best.score - ranked[1].score if len(ranked) > 1 else best.score
    dense = float(index.sentence_vectors[best.id] @ qvec)
    return {"dense": dense, "coverage": coverage, "missing": missing / kw.idf_unseen(),
            "names": names_missing, "type": type_fit, "margin": margin}


DEFAULT_WEIGHTS = {"bias": -6.0, "dense": 6.0, "coverage": 4.0, "type": 1.0}


def confidence(signals: dict[str, float], settings: RetrievalSettings) -> float:
    """A logistic over the signals; the evaluation suite fits the weights on the dev split."""
    w = settings.extra.get("confidence_weights", DEFAULT_WEIGHTS)
    z = w.get("bias", 0.0) + sum(w.get(name, 0.0) * value for name, value in signals.items())
    return 1.0 / (1.0 + math.exp(-z))


def _supporting(index: Index, ranked: list[Scored], settings: RetrievalSettings) -> list[Scored]:
    """Adjacent sentences that score nearly as well as the best: answers spanning two sentences."""
    best = ranked[0]
    ratio = settings.extra.get("second_citation_ratio", 0.92)
    out = []
    for s in ranked[1:3]:
        same_source = index.sentences[s.id].source == index.sentences[best.id].source
        if same_source and abs(s.id - best.id) == 1 and s.score >= ratio * best.score:
            out.append(s)
    return out


def _neighbour(index: Index, sid: int, step: int) -> str:
    j = sid + step
    if 0 <= j < len(index.sentences) and index.sentences[j].source == index.sentences[sid].source:
        return normalise(index.sentences[j].text)
    return ""


def _citation(index: Index, n: int, sid: int) -> Citation:
    s = index.sentences[sid]
    return Citation(n=n, source=s.source, sentence=sid, start=s.start, end=s.end, text=normalise(s.text),
                    before=_neighbour(index, sid, -1), after=_neighbour(index, sid, 1))


def _passage(index: Index, scored: Scored) -> Passage:
    chunk = index.chunks[scored.id]
    text = " ".join(normalise(index.sentences[i].text) for i in range(chunk.first, chunk.last + 1))
    return Passage(source=chunk.source, start=chunk.start, end=chunk.end, text=text, score=round(scored.score, 4))
