import pytest

from qa.reading.chunking import count_tokens, pack_chunks, split_long_span
from qa.config import ChunkSettings


def test_pack_respects_budget_and_overlaps_one_sentence():
    tokens = [30, 40, 50, 20, 60, 10, 70]
    chunks = pack_chunks(tokens, ChunkSettings(max_tokens=100, overlap_sentences=1))
    for first, last in chunks:
        assert sum(tokens[first:last + 1]) <= 100 or first == last
    assert chunks[0] == (0, 1)
    for (a, b), (c, d) in zip(chunks, chunks[1:]):
        assert c == b, "the next chunk starts with the last sentence of the previous one"
    assert chunks[-1][1] == len(tokens) - 1


def test_pack_without_overlap_partitions():
    tokens = [10] * 9
    chunks = pack_chunks(tokens, ChunkSettings(max_tokens=30, overlap_sentences=0))
    assert chunks == [(0, 2), (3, 5), (6, 8)]


def test_oversized_sentence_gets_its_own_chunk_and_progress_is_made():
    chunks = pack_chunks([500, 10, 10], ChunkSettings(max_tokens=100, overlap_sentences=1))
    assert chunks[0] == (0, 0)
    assert chunks[-1][1] == 2


def test_split_long_span_cuts_at_words_under_budget():
    text = "word " * 2000
    pieces = split_long_span(text, 0, len(text.rstrip()), 50)
    assert len(pieces) > 10
    assert all(n <= 50 for n in count_tokens([text[s:e] for s, e in pieces]))
    assert all(text[s] != " " and text[e - 1] != " " for s, e in pieces)
    assert "".join(text[s:e] + " " for s, e in pieces).split() == text.split()


def test_split_long_span_handles_text_without_spaces():
    text = "x" * 5000
    pieces = split_long_span(text, 0, len(text), 64)
    assert "".join(text[s:e] for s, e in pieces) == text
    assert all(n <= 64 for n in count_tokens([text[s:e] for s, e in pieces]))


@pytest.mark.slow
def test_article_chunks_fit_token_budget_and_embedder_window(article_index):
    from qa.indexing.embedder import count_wordpieces, window_tokens
    from qa.indexing.store import normalise

    settings = ChunkSettings()
    texts = [" ".join(normalise(article_index.sentences[i].text) for i in range(c.first, c.last + 1))
             for c in article_index.chunks]
    assert len(texts) > 3
    assert max(count_tokens(texts)) <= settings.max_tokens
    assert max(count_wordpieces(texts)) <= window_tokens()
    ids = [i for c in article_index.chunks for i in range(c.first, c.last + 1)]
    assert set(ids) == set(range(len(article_index.sentences))), "every sentence is in some chunk"
