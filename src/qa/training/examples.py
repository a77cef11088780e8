"""Reader examples in the shape the engine reads at answer time: one passage of sentences, the answer in it
or not (qa.answering.reader_input lays both out the same way).

From a SQuAD-shaped article (one document, questions with answer offsets):
- a positive: the answer's sentence with the sentences that share most (IDF-weighted) terms with the
  question, in document order; or, for a share of questions, a run of neighbouring sentences around it;
- negatives, "no answer in this passage" (the [CLS] token is the target):
  near-miss: the question against the most similar sentences of its own article, none holding the answer;
  swap: the question with one of its names, numbers or years swapped for another of the same kind from
  the article, against its own positive passage (which no longer answers it);
  other-article: the question against the most similar sentences of another article;
  unanswerable: SQuAD 2.0's hand-written unanswerable questions (training articles only).
"""
from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from ..answering.reader_input import lay_out
from ..evaluation.squad import SquadArticle
from ..indexing.keyword import terms
from ..reading.sentences import split_sentences


@dataclass
class ReaderExample:
    """A question and a passage; `start`/`end` of the answer in the passage, or None for no answer."""
    question: str
    context: str
    start: int | None
    end: int | None
    origin: str      # passage, window, near-miss, swap, other-article, unanswerable


@dataclass
class Document:
    """An article with its sentences (the engine's splitter), their terms, IDF and word-piece sizes."""
    article: SquadArticle
    sentences: list[tuple[int, int]] = field(default_factory=list)
    terms: list[Counter] = field(default_factory=list)
    idf: dict = field(default_factory=dict)
    pieces: list[int] = field(default_factory=list)
    names: dict = field(default_factory=dict)       # kind -> names, numbers or years the article holds

    @classmethod
    def of(cls, article: SquadArticle, count) -> "Document":
        """`count(texts)`: word pieces of each text (the reader's tokenizer, no special tokens)."""
        doc = cls(article)
        text = article.text
        doc.sentences = split_sentences(text)
        doc.terms = [Counter(terms(text[s:e])) for s, e in doc.sentences]
        df = Counter(t for c in doc.terms for t in c)
        n = len(doc.sentences)
        doc.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        doc.pieces = count([text[s:e] for s, e in doc.sentences])
        doc.names = swappable(text)
        return doc

    @property
    def text(self) -> str:
        return self.article.text

    def sentence_at(self, offset: int) -> int:
        lo, hi = 0, len(self.sentences) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.sentences[mid][1] <= offset:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def ranked(self, question: str) -> list[int]:
        """Sentence ids by IDF-weighted overlap with the question, damped by length (what retrieval
        would put first, without an embedding model)."""
        q = set(terms(question))
        scores = []
        for i, c in enumerate(self.terms):
            s = sum(self.idf.get(t, 0.0) for t in q if t in c) / (1 + 0.02 * sum(c.values()))
            scores.append((-s, i))
        scores.sort()
        return [i for _, i in scores]

    def choose(self, ranked: list[int], must: list[int], k: int, budget: int, exclude=frozenset()) -> list[int]:
        """`must`, then the best-ranked others, up to k sentences within `budget` word pieces."""
        chosen = list(must)
        used = sum(self.pieces[i] + 1 for i in chosen)
        for i in ranked:
            if len(chosen) >= k:
                break
            if i in chosen or i in exclude or used + self.pieces[i] + 1 > budget:
                continue
            chosen.append(i)
            used += self.pieces[i] + 1
        return chosen

    def passage(self, ids: list[int]):
        """(passage text, laid-out parts) of sentences `ids`, in document order."""
        laid = lay_out([(i, self.text[s:e]) for i, (s, e) in ((i, self.sentences[i]) for i in sorted(set(ids)))],
                       lambda a, b: b == a + 1)
        return laid.text, laid.parts

    def locate(self, parts, start: int, end: int) -> tuple[int, int] | None:
        """The answer's document offsets as passage offsets (it must lie inside one laid-out sentence run)."""
        for i, a, b in parts:
            s, e = self.sentences[i]
            if s <= start and end <= e:
                return a + start - s, a + end - s
        # an answer over two adjacent sentences: both laid out next to each other
        first = next(((i, a) for i, a, _ in parts if self.sentences[i][0] <= start < self.sentences[i][1]), None)
        last = next(((i, b) for i, _, b in parts if self.sentences[i][0] < end <= self.sentences[i][1]), None)
        if first and last and all(any(p[0] == j for p in parts) for j in range(first[0], last[0] + 1)):
            s0 = self.sentences[first[0]][0]
            return first[1] + start - s0, first[1] + end - s0
        return None


_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"\b([A-Z][\w'’-]+(?:\s+(?:of|the|de|von|van|and)?\s*[A-Z][\w'’-]+)*)")


def swappable(text: str) -> dict[str, list[str]]:
    """The years, other numbers and capitalised names a text holds, by kind."""
    out = {"year": _YEAR.findall(text),
           "number": [n for n in _NUMBER.findall(text) if not _YEAR.fullmatch(n)],
           "name": [m.group(1) for m in _NAME.finditer(text) if len(m.group(1)) > 2]}
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


def swapped(question: str, names: dict[str, list[str]], avoid: str, rng: random.Random) -> str | None:
    """The question with one of its years, numbers or names replaced by another of the same kind from the
    article that the passage `avoid` does not hold (so that passage no longer answers it), or None."""
    found = [("year", m.start(), m.end()) for m in _YEAR.finditer(question)]
    found += [("number", m.start(), m.end()) for m in _NUMBER.finditer(question) if not _YEAR.fullmatch(m.group(0))]
    found += [("name", m.start(1), m.end(1)) for m in _NAME.finditer(question)
              if not (m.start() == 0 and " " not in m.group(1))]      # the first word is capitalised anyway
    rng.shuffle(found)
    low_avoid, low_question = avoid.lower(), question.lower()
    for kind, s, e in found:
        old = question[s:e].lower()
        pool = [x for x in names.get(kind, []) if x.lower() != old and x.lower() not in low_avoid
                and old not in x.lower() and x.lower() not in low_question]
        if pool:
            return question[:s] + rng.choice(pool) + question[e:]
    return None


@dataclass(frozen=True)
class Mix:
    """How examples are made: shares of each kind per answerable question, and passage sizes."""
    window_share: float = 0.25       # positives laid out as a run of neighbouring sentences
    near_miss: float = 0.3
    swap: float = 0.15
    other_article: float = 0.05
    max_tokens: int = 256            # question + passage, special tokens included
    min_sentences: int = 3
    max_sentences: int = 6


def reader_examples(docs: list[Document], mix: Mix, rng: random.Random, count) -> list[ReaderExample]:
    """Examples from every question of `docs` (positives, and negatives by the shares in `mix`)."""
    out: list[ReaderExample] = []
    qlen: dict[str, int] = {}

    def question_pieces(q: str) -> int:
        if q not in qlen:
            qlen[q] = count([q])[0]
        return qlen[q]

    for doc in docs:
        for q in doc.article.questions:
            budget = mix.max_tokens - question_pieces(q.question) - 3
            ranked = doc.ranked(q.question)
            k = rng.randint(mix.min_sentences, mix.max_sentences)
            if not q.answerable:
                text, _ = doc.passage(doc.choose(ranked, [], k, budget))
                out.append(ReaderExample(q.question, text, None, None, "unanswerable"))
                continue
            answer = q.answers[0]
            first, last = doc.sentence_at(answer.start), doc.sentence_at(max(answer.start, answer.end - 1))
            must = list(range(first, last + 1))
            if sum(doc.pieces[i] + 1 for i in must) > budget:
                continue
            if rng.random() < mix.window_share:
                ids, origin = _window(doc, must, rng.randint(2, mix.max_sentences), budget, rng), "window"
            else:
                if rng.random() < 0.3:        # retrieval often brings the answer's neighbour too
                    j = rng.choice([first - 1, last + 1])
                    if 0 <= j < len(doc.sentences):
                        must = must + [j]
                ids, origin = doc.choose(ranked, must, k, budget), "passage"
            text, parts = doc.passage(ids)
            where = doc.locate(parts, answer.start, answer.end)
            if where is None:
                continue
            out.append(ReaderExample(q.question, text, where[0], where[1], origin))
            if rng.random() < mix.near_miss:
                answers = [a.text for a in q.answers]
                holding = {i for i, (s, e) in enumerate(doc.sentences) if any(a in doc.text[s:e] for a in answers)}
                ids = doc.choose(ranked, [], rng.randint(mix.min_sentences, mix.max_sentences), budget,
                                 exclude=holding | set(range(first, last + 1)))
                if ids:
                    out.append(ReaderExample(q.question, doc.passage(ids)[0], None, None, "near-miss"))
            if rng.random() < mix.swap:
                other = swapped(q.question, doc.names, text, rng)
                if other:
                    out.append(ReaderExample(other, text, None, None, "swap"))
            if rng.random() < mix.other_article and len(docs) > 1:
                far = docs[rng.randrange(len(docs))]
                if far is not doc:
                    ids = far.choose(far.ranked(q.question), [], rng.randint(mix.min_sentences, mix.max_sentences),
                                     budget)
                    out.append(ReaderExample(q.question, far.passage(ids)[0], None, None, "other-article"))
    return out


def _window(doc: Document, must: list[int], k: int, budget: int, rng: random.Random) -> list[int]:
    """A run of k neighbouring sentences holding `must`, the answer at a random place in it."""
    spare = max(0, k - len(must))
    before = rng.randint(0, spare)
    ids = list(range(max(0, must[0] - before), min(len(doc.sentences) - 1, must[-1] + spare - before) + 1))
    while sum(doc.pieces[i] + 1 for i in ids) > budget and len(ids) > len(must):
        ids.remove(ids[0] if ids[0] not in must else ids[-1])
    return ids
