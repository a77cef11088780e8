"""Labelled data for the learned parts: the SQuAD articles split by article, and reader windows.

The split is by article, never by question, and fixed here so that every model and every report uses
the same one. Validation articles choose thresholds and report figures; nothing is fitted on them.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ...config import PROJECT_ROOT
from ...keyword import terms
from ...sentences import split_sentences
from ...evaluation.squad import SquadArticle, load_squad

SQUAD_FILE = PROJECT_ROOT / "eval" / "data" / "squad2" / "train-v2.0-first10.json"
# held back from every fit: thresholds are chosen and figures reported on these; one of them holds
# SQuAD's hand-written unanswerable questions, so abstention is measured on real ones
VALIDATION_ARTICLES = ("The_Legend_of_Zelda:_Twilight_Princess", "To_Kill_a_Mockingbird", "Solar_energy")
# the answer/abstain model is fitted on the reader's output over an article the reader never read
# (stacking: its scores there are as they will be on new text, not as on its own training data); it
# holds SQuAD's other block of unanswerable questions
ANSWER_MODEL_ARTICLES = ("Spectre_(2015_film)",)
WINDOW = 3            # sentences a reader window holds (the ranked sentence and its neighbours)


def squad_split(path: Path = SQUAD_FILE) -> tuple[list[SquadArticle], list[SquadArticle], list[SquadArticle]]:
    """(reader training articles, answer_model_articles training articles, validation articles)."""
    articles = load_squad(path)
    held = VALIDATION_ARTICLES + ANSWER_MODEL_ARTICLES
    reader = [a for a in articles if a.title not in held]
    answer_model_articles = [a for a in articles if a.title in ANSWER_MODEL_ARTICLES]
    valid = [a for a in articles if a.title in VALIDATION_ARTICLES]
    if len(valid) + len(answer_model_articles) != len(held):
        raise ValueError(f"{path} lacks an article of {held}")
    return reader, answer_model_articles, valid


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

# our own question sets over data/texts/ (eval/texts/): these three choose thresholds with the SQuAD
# validation articles; the other five are test texts that nothing is fitted or chosen on
VALIDATION_TEXTS = ("encyclopedia-rift-valley-fever", "story-saki-the-story-teller", "howto-git-tutorial")
TEST_TEXTS = ("encyclopedia-barcelonnette", "encyclopedia-dorothy-parker", "story-london-the-story-of-keesh",
              "legal-us-constitution-articles-1-3", "news-every-kid-in-a-park-website")
