"""Answer candidates: the reader's best span in the window of each top-ranked sentence, with the
features the answer model weighs (retrieval scores, the reader's scores, answer type, coverage of the
question's terms, terms the document never uses, margins to the other candidates)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..indexing.store import Index
from ..indexing.keyword import terms
from .question import QuestionInfo, has_wanted_type, question_names
from .retrieval import Scored
from .reader_input import lay_out
from .reader import MAX_QUESTION_TOKENS, Reader, Reading

CANDIDATES = 3          # top-ranked sentences whose windows are read
_EDGE = " \t\r\n,;:.!?\"'“”‘’()[]"


@dataclass
class Candidate:
    rank: int                  # rank of the retrieved sentence whose window was read
    sentence: int              # the sentence that holds the span: the one cited
    start: int                 # the span, as offsets into that sentence's text
    end: int
    reading: Reading
    features: dict = field(default_factory=dict)


def window(index: Index, sid: int) -> list[int]:
    """The sentence and its neighbours in the same source (the answer often sits in the next one)."""
    source = index.sentences[sid].source
    return [j for j in (sid - 1, sid, sid + 1)
            if 0 <= j < len(index.sentences) and index.sentences[j].source == source]


def read_candidates(index: Index, reader: Reader, info: QuestionInfo, question: str,
                    ranked: list[Scored], qterms: list[str], count: int = CANDIDATES) -> list[Candidate]:
    """Read the windows of the top `count` sentences; one candidate (with features) per window."""
    top = ranked[:count]
    windows = [window(index, s.id) for s in top]
    contexts, layouts = [], []
    for ids in windows:
        parts, layout, pos = [], [], 0
        for j in ids:
            text = index.sentences[j].text
            layout.append((pos, j))
            parts.append(text)
            pos += len(text) + 1
        contexts.append(" ".join(parts))
        layouts.append(layout)
    readings = reader.read(question, contexts)
    out = []
    for rank, (scored, reading, layout) in enumerate(zip(top, readings, layouts)):
        sid, start, end = _locate(index, layout, reading.start, reading.end)
        out.append(Candidate(rank, sid, start, end, reading))
    _add_features(index, info, qterms, top, windows, out)
    return out


def _locate(index: Index, layout: list[tuple[int, int]], start: int, end: int) -> tuple[int, int, int]:
    """The sentence holding the span's start, and the span clipped to it (trimmed of edge punctuation)."""
    offset, sid = layout[0]
    for pos, j in layout:
        if pos <= start:
            offset, sid = pos, j
    text = index.sentences[sid].text
    return (sid, *_trim(text, max(0, start - offset), end - offset))


class _Question:
    """A question's terms weighted by the document's IDF, computed once for all of its candidates."""

    def __init__(self, index: Index, info: QuestionInfo, qterms: list[str]):
        self.kw = index.keyword_sentences
        self.info = info
        self.unique = list(dict.fromkeys(qterms))
        self.weights = {t: self.kw.idf(t) for t in self.unique}
        self.total = sum(self.weights.values()) or 1.0
        self.unseen = sum(w for t, w in self.weights.items() if not self.kw.knows(t)) / self.total
        self.names = question_names(info.text)
        self.expects_type = info.qtype not in ("other", "noun", "manner", "action", "reason")

    def text_features(self, sentence, start: int, end: int, around: set) -> dict:
        """How the span and its sentence meet the question: answer length, the question's words echoed in
        the answer, the question's terms covered by the sentence and by `around` (the terms of the text read
        with it), the most specific term missing there, names of the question missing, answer type."""
        present = set(terms(sentence.text))
        answer_terms = set(terms(sentence.text[start:end]))
        typed = has_wanted_type(self.info, (start, end), sentence.entities)
        weights, total = self.weights, self.total
        return {
            "answer_words": math.log1p(len(sentence.text[start:end].split())),
            "whole_sentence": float(end - start >= 0.9 * len(sentence.text)),
            "echo": len(answer_terms & set(self.unique)) / len(answer_terms) if answer_terms else 1.0,
            "coverage": sum(w for t, w in weights.items() if t in present) / total,
            "window_coverage": sum(w for t, w in weights.items() if t in around) / total,
            "missing": max((w for t, w in weights.items() if t not in around and self.kw.knows(t)), default=0.0)
            / self.kw.idf_unseen(),
            "unseen": self.unseen,
            "names_missing": len(self.names - around) / len(self.names) if self.names else 0.0,
            "typed": (1.0 if typed else 0.0) if self.expects_type else 0.5,
        }


def _add_features(index: Index, info: QuestionInfo, qterms: list[str], top: list[Scored],
                  windows: list[list[int]], out: list[Candidate]) -> None:
    question = _Question(index, info, qterms)
    best_margin = max(c.reading.margin for c in out)
    for c, scored, ids in zip(out, top, windows):
        sentence = index.sentences[c.sentence]
        around = set().union(*(terms(index.sentences[j].text) for j in ids))
        c.features = {
            "rank": float(c.rank),
            "retrieval": scored.score,
            "retrieval_gap": top[0].score - scored.score,
            "dense": scored.dense,
            "keyword": scored.keyword,
            "span_score": _finite(c.reading.span_score),
            "null_score": c.reading.null_score,
            "reader_margin": _finite(c.reading.margin),
            "margin_gap": _finite(best_margin - c.reading.margin),
            "off_centre": float(c.sentence != scored.id),
            **question.text_features(sentence, c.start, c.end, around),
        }


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -30.0


# --- one passage: the top sentences read at once -------------------------------------------------------

@dataclass(frozen=True)
class PassageSettings:
    """What the reader reads for a question: the top-ranked sentences, in document order, as one passage of
    at most `max_pieces` word pieces (question and special tokens included), at most `sentences` of them;
    the top `neighbours` sentences bring the sentence before and after them when they fit."""
    max_pieces: int = 128       # chosen on validation: as right as 160-256 and the fastest (the model card)
    sentences: int = 6
    neighbours: int = 0
    scan: int = 12              # how far down the ranking to look for sentences that fit

    @classmethod
    def from_json(cls, data: dict | None) -> "PassageSettings":
        data = data or {}
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def choose_sentences(index: Index, ranked: list[Scored], room: int, pieces, settings: PassageSettings) -> list[int]:
    """Sentence ids for the passage, best-ranked first, within `room` word pieces (`pieces(ids)` counts them)."""
    top = [s.id for s in ranked[: settings.scan]]
    wanted: list[int] = []
    for rank, sid in enumerate(top):
        wanted.append(sid)
        if rank < settings.neighbours:
            wanted += [j for j in (sid - 1, sid + 1) if 0 <= j < len(index.sentences)
                       and index.sentences[j].source == index.sentences[sid].source]
    wanted = list(dict.fromkeys(wanted))
    sizes = dict(zip(wanted, pieces(wanted)))
    chosen, used = [], 0
    for sid in wanted:
        if len(chosen) >= settings.sentences:
            break
        cost = sizes[sid] + 1          # a space or a gap marker
        if used + cost <= room:
            chosen.append(sid)
            used += cost
    return chosen


def read_passage(index: Index, reader: Reader, info: QuestionInfo, question: str, ranked: list[Scored],
                 qterms: list[str], settings: PassageSettings = PassageSettings()) -> list[Candidate]:
    """Read the top sentences as one passage; one candidate per sentence: its best span, with features."""
    qlen = reader.count([question])[0]
    room = settings.max_pieces - min(qlen, MAX_QUESTION_TOKENS) - 3
    texts = {}

    def pieces(ids):
        fresh = [i for i in ids if i not in texts]
        texts.update(zip(fresh, reader.count([index.sentences[i].text for i in fresh])))
        return [texts[i] for i in ids]

    chosen = choose_sentences(index, ranked, room, pieces, settings)
    if not chosen:
        return []
    order = sorted(chosen, key=lambda i: (index.sentences[i].source, i))
    laid = lay_out([(i, index.sentences[i].text) for i in order],
                   lambda a, b: b == a + 1 and index.sentences[a].source == index.sentences[b].source)
    readings = reader.read_parts(question, laid.text, [(s, e) for _, s, e in laid.parts])
    scored = {s.id: (rank, s) for rank, s in enumerate(ranked)}
    out = []
    for (sid, s0, _), reading in zip(laid.parts, readings):
        start, end = reading.start - s0, reading.end - s0
        rank = scored[sid][0] if sid in scored else len(ranked)
        a, b = _trim(index.sentences[sid].text, max(0, start), max(0, end)) if reading.span_score > -1e30 \
            else (0, len(index.sentences[sid].text))
        out.append(Candidate(rank, sid, a, b, reading))
    _passage_features(index, info, qterms, ranked, scored, out)
    return out


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """The span trimmed of edge punctuation (a closing bracket stays when it closes one inside)."""
    b = min(b, len(text))
    while a < b and text[a] in _EDGE:
        a += 1
    while b > a and text[b - 1] in _EDGE and not (text[b - 1] == ")" and "(" in text[a:b]):
        b -= 1
    return (a, b) if a < b else (0, len(text))


def _passage_features(index: Index, info: QuestionInfo, qterms: list[str], ranked: list[Scored],
                      scored: dict, out: list[Candidate]) -> None:
    question = _Question(index, info, qterms)
    top_score = ranked[0].score if ranked else 0.0
    null = out[0].reading.null_score
    spans = np.array([_finite(c.reading.span_score) for c in out])
    best = float(spans.max())
    # the reader's belief spread over the passage's best spans and "no answer", as probabilities
    z = np.exp(np.concatenate([spans, [null]]) - max(best, null))
    share = z / z.sum()
    for k, c in enumerate(out):
        sentence = index.sentences[c.sentence]
        s = scored.get(c.sentence, (len(ranked), Scored(c.sentence, 0.0)))[1]
        around = set(terms(sentence.text)).union(*(terms(index.sentences[j].text) for j in (c.sentence - 1, c.sentence + 1)
                                                   if 0 <= j < len(index.sentences)
                                                   and index.sentences[j].source == sentence.source))
        c.features = {
            "rank": float(min(c.rank, 20)),
            "retrieval": s.score,
            "retrieval_gap": top_score - s.score,
            "dense": s.dense,
            "keyword": s.keyword,
            "span_score": spans[k],
            "null_score": null,
            "reader_margin": spans[k] - null,
            "margin_gap": best - spans[k],
            "span_share": float(share[k]),
            "null_share": float(share[-1]),
            "passage_best": float(spans[k] == best),
            **question.text_features(sentence, c.start, c.end, around),
        }
