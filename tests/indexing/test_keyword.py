"""The keyword index: BM25 over our stemmed terms, and scoring a few documents without scoring all."""
import numpy as np

from qa.config import DEFAULT_SOURCE
from qa.indexing.keyword import KeywordIndex, _postings_sorted, terms
from qa.reading.sentences import split_sentences


def _sentences() -> list[str]:
    text = DEFAULT_SOURCE.read_text(encoding="utf-8")
    return [text[s:e] for s, e in split_sentences(text)]


def test_scores_for_some_documents_equal_the_full_scores_at_those_documents():
    texts = _sentences()
    index = KeywordIndex.build(texts)
    rng = np.random.default_rng(7)
    queries = [terms(texts[i]) for i in rng.choice(len(texts), 12, replace=False)]
    queries += [terms("When did Pakistan sign the Mutual Defense Assistance Agreement?"),
                ["pakistan", "pakistan", "us"], ["zzzunknown"], [], [""]]   # "" is in bm25s's vocabulary
    for query in queries:
        full = index.scores(query)
        for ids in (np.arange(len(texts)), rng.choice(len(texts), 9, replace=False), np.array([0, len(texts) - 1])):
            assert np.allclose(index.scores_for(query, ids), full[ids], atol=1e-6), query
    assert np.count_nonzero(index.scores(terms("Mutual Defense Assistance Agreement"))) > 0


def test_scores_equal_bm25s_own_scoring():
    texts = _sentences()
    index = KeywordIndex.build(texts)
    for query in [terms(t) for t in texts[::5]] + [["pakistan", "pakistan"], ["zzzunknown", "us"]]:
        known = [t for t in query if index.knows(t)]
        expected = index._retriever.get_scores(known) if known else np.zeros(len(texts))
        assert np.allclose(index.scores(query), expected, atol=1e-5), query


def test_postings_order_is_checked_and_unsorted_postings_fall_back_to_full_scoring():
    indptr = np.array([0, 3, 3, 5])                     # three terms, the second with no postings
    assert _postings_sorted(np.array([1, 4, 9, 0, 2]), indptr)
    assert not _postings_sorted(np.array([1, 9, 4, 0, 2]), indptr)
    assert not _postings_sorted(np.array([1, 4, 9, 2, 2]), indptr)
    texts = _sentences()
    index = KeywordIndex.build(texts)
    query = terms("United States aid to Pakistan")
    ids = np.array([3, 1, 2, 40])
    expected = index.scores(query)[ids]
    index._sorted = False
    assert np.allclose(index.scores_for(query, ids), expected)
