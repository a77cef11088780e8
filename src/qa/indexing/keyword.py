"""Keyword retrieval: BM25 (bm25s) over our own light tokenizer."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import snowballstemmer

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves also s t ve ll d re m many much did does done according text document
article say says said tell name named called one kind
""".split())
_stemmer = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[\w$€£%]+(?:[.'’\-][\w]+)*", re.UNICODE)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem, without a trailing possessive."""
    if word.endswith(("’s", "'s")):
        word = word[:-2]
    return _stemmer.stemWord(word)


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words; dotted acronyms lose their dots (U.S. -> us)."""
    out = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace(".", "")
        if word in STOPWORDS or len(word) == 1 and not word.isdigit():
            continue
        out.append(stem(word))
    return out


def _bm25s():
    """bm25s, imported on first use; it sets its own logger to DEBUG on import, which would log every build."""
    import bm25s
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _postings_sorted(indices: np.ndarray, indptr: np.ndarray) -> bool:
    """Whether every term's postings list is in increasing document order."""
    if len(indices) < 2:
        return True
    rising = np.diff(indices.astype(np.int64)) > 0
    rising[indptr[1:-1][(indptr[1:-1] > 0) & (indptr[1:-1] < len(indices))] - 1] = True   # a new term may restart
    return bool(rising.all())


class KeywordIndex:
    """BM25 over a list of texts; saved as bm25s' plain files."""

    def __init__(self, retriever):
        self._retriever = retriever
        self._indptr = np.asarray(retriever.scores["indptr"])
        self._indices = np.asarray(retriever.scores["indices"])
        self._data = np.asarray(retriever.scores["data"])
        self._df = np.diff(self._indptr)
        self._vocab = retriever.vocab_dict
        self.num_docs = int(retriever.scores["num_docs"])
        self._sorted = _postings_sorted(self._indices, self._indptr)

    @classmethod
    def build(cls, texts: list[str]) -> "KeywordIndex":
        retriever = _bm25s().BM25()
        retriever.index([terms(t) or [""] for t in texts], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        return cls(_bm25s().BM25.load(str(folder), show_progress=False, allow_pickle=False))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 of every document: bm25s's precomputed per-term scores, summed with one bincount
        (bm25s's own get_scores uses np.add.at, several times slower on a large corpus)."""
        ids = [i for i in map(self._term_id, query_terms) if i is not None]
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        ranges = [(int(self._indptr[i]), int(self._indptr[i + 1])) for i in ids]
        docs = np.concatenate([self._indices[lo:hi] for lo, hi in ranges])
        weights = np.concatenate([self._data[lo:hi] for lo, hi in ranges])
        return np.bincount(docs, weights=weights, minlength=self.num_docs).astype(np.float32)

    def scores_for(self, query_terms: list[str], ids: np.ndarray) -> np.ndarray:
        """scores(query_terms)[ids], without scoring every document: each term's postings (sorted by
        document) are searched for `ids`. On a large corpus this is the difference that keeps ask()
        close to the cost of embedding the question."""
        if not self._sorted:
            return self.scores(query_terms)[ids]
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.float32)
        for term in query_terms:
            tid = self._term_id(term)
            if tid is None:
                continue
            lo, hi = int(self._indptr[tid]), int(self._indptr[tid + 1])
            if hi == lo:
                continue
            postings = self._indices[lo:hi]
            pos = np.minimum(np.searchsorted(postings, ids), hi - lo - 1)
            hit = postings[pos] == ids
            out[hit] += self._data[lo:hi][pos[hit]]
        return out

    def _term_id(self, term: str) -> int | None:
        """The term's column; None if no document holds it (bm25s's vocabulary also lists an empty
        token, for empty documents, with no column of its own)."""
        tid = self._vocab.get(term)
        return tid if tid is not None and tid < len(self._indptr) - 1 else None

    def knows(self, term: str) -> bool:
        return term in self._vocab

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms count as rare."""
        idx = self._vocab.get(term)
        df = int(self._df[idx]) if idx is not None and idx < len(self._df) else 0
        return float(np.log(1 + (self.num_docs - df + 0.5) / (df + 0.5)))

    def idf_unseen(self) -> float:
        """The largest IDF there is: that of a term no document holds."""
        return float(np.log(1 + (self.num_docs + 0.5) / 0.5))
