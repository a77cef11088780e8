"""Reader windows from labelled data (the split itself, by article, is qa.evaluation.splits)."""
from __future__ import annotations

import random
from dataclasses import dataclass

from ..evaluation.squad import SquadArticle
from ..indexing.keyword import terms
from ..reading.sentences import split_sentences

WINDOW = 3            # sentences a reader window holds (the ranked sentence and its neighbours)


@dataclass
class ReaderExample:
    """A question and a window of text; `start`/`end` of the answer in the window, or None."""
    question: str
    context: str
    start: int | None
    end: int | None
    origin: str          # "answer", "near-miss", "unanswerable", "other-article", "dev"


class Document:
    """A text with its sentences (the engine's own splitter) and their terms, for choosing windows."""

    def __init__(self, text: str):
        self.text = text
        self.sentences = split_sentences(text)
        self.terms = [set(terms(text[s:e])) for s, e in self.sentences]

    def sentence_at(self, offset: int) -> int:
        for i, (s, e) in enumerate(self.sentences):
            if offset < e:
                return i
        return len(self.sentences) - 1

    def window(self, first: int, last: int) -> tuple[int, int]:
        """Character range of sentences first..last (inclusive, clipped to the document)."""
        first, last = max(0, first), min(len(self.sentences) - 1, last)
        return self.sentences[first][0], self.sentences[last][1]

    def most_similar(self, question: str, exclude=lambda i: False) -> int | None:
        """The sentence sharing most of the question's terms: what retrieval would likely pick."""
        q = set(terms(question))
        best, best_score = None, -1.0
        for i, t in enumerate(self.terms):
            if exclude(i):
                continue
            score = len(q & t) + 0.001 * len(t)
            if score > best_score:
                best, best_score = i, score
        return best


def answer_window(doc: Document, start: int, end: int, rng: random.Random) -> tuple[int, int]:
    """A window of WINDOW sentences covering the answer, the answer's sentence at a random place in it
    (the engine's top sentence is often the one before or after the answer's)."""
    first, last = doc.sentence_at(start), doc.sentence_at(max(start, end - 1))
    spare = max(0, WINDOW - (last - first + 1))
    before = rng.randint(0, spare)
    return doc.window(first - before, last + (spare - before))


def _centered(doc: Document, i: int) -> tuple[int, int]:
    return doc.window(i - WINDOW // 2, i + WINDOW // 2)


def squad_reader_examples(articles: list[SquadArticle], seed: int = 0, near_miss_share: float = 0.6,
                          other_article: int = 1500) -> list[ReaderExample]:
    """Windows for training a reader from SQuAD articles.

    Answerable questions: a window holding the answer. Negatives, with no answer: SQuAD's unanswerable
    questions against the window the engine would likely read (the sentence of their paragraph sharing
    most words with the question); a share of answerable questions against the most similar window
    that does not hold the answer (retrieval's near misses); questions asked against another article.
    """
    rng = random.Random(seed)
    out: list[ReaderExample] = []
    docs = [Document(a.text) for a in articles]
    for article, doc in zip(articles, docs):
        for q in article.questions:
            if q.answerable:
                a = q.answers[0]
                s, e = answer_window(doc, a.start, a.end, rng)
                out.append(ReaderExample(q.question, doc.text[s:e], a.start - s, a.end - s, "answer"))
                if rng.random() < near_miss_share:
                    texts = {x.text for x in q.answers}
                    i = doc.most_similar(q.question, exclude=lambda i: _holds(doc, i, texts))
                    if i is not None:
                        s, e = _centered(doc, i)
                        if not any(t in doc.text[s:e] for t in texts):
                            out.append(ReaderExample(q.question, doc.text[s:e], None, None, "near-miss"))
            else:
                p_start, p_end = article.paragraphs[q.paragraph]
                i = doc.most_similar(q.question,
                                     exclude=lambda i: not p_start <= doc.sentences[i][0] < p_end)
                if i is not None:
                    s, e = _centered(doc, i)
                    out.append(ReaderExample(q.question, doc.text[s:e], None, None, "unanswerable"))
    questions = [(k, q) for k, a in enumerate(articles) for q in a.questions if q.answerable]
    for k, q in rng.sample(questions, min(other_article, len(questions))):
        j = rng.choice([x for x in range(len(articles)) if x != k])
        i = docs[j].most_similar(q.question)
        s, e = _centered(docs[j], i)
        out.append(ReaderExample(q.question, docs[j].text[s:e], None, None, "other-article"))
    return out


def _holds(doc: Document, i: int, texts: set[str]) -> bool:
    """Whether sentence i's window would hold one of the answers."""
    s, e = _centered(doc, i)
    return any(t in doc.text[s:e] for t in texts)


def dev_reader_examples(rows, text: str, source_start: int = 0, seed: int = 0) -> list[ReaderExample]:
    """Windows from our own dev questions over a document (`rows` from evaluation.datasets)."""
    rng = random.Random(seed)
    doc = Document(text)
    out = []
    low = text.lower()
    for row in rows:
        if row.answerable:
            ev = next((low.find(" ".join(p.split()).lower()) for p in row.evidence
                       if low.find(" ".join(p.split()).lower()) >= 0), -1)
            if ev < 0:
                continue
            found = [(text.find(a, max(0, ev - 400)), a) for a in row.answers]
            found = [(pos, a) for pos, a in found if pos >= 0 and abs(pos - ev) < 600]
            if not found:
                continue
            pos, a = min(found, key=lambda x: (abs(x[0] - ev), len(x[1])))
            s, e = answer_window(doc, pos, pos + len(a), rng)
            out.append(ReaderExample(row.question, text[s:e], pos - s, pos + len(a) - s, "dev"))
        else:
            i = doc.most_similar(row.question)
            if i is not None:
                s, e = _centered(doc, i)
                out.append(ReaderExample(row.question, text[s:e], None, None, "dev"))
    return out
