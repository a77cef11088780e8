"""Scale: the approximate (HNSW) chunk index against the exact one, and long texts through the splitter."""
from dataclasses import replace

import faiss
import numpy as np
import pytest

from qa.indexing import embedder
from qa.answering.ask import ask
from qa.indexing.build import _prepare, build
from qa.config import DEFAULT_SOURCE, ChunkSettings, RetrievalSettings, settings_record
from qa.reading.documents import Document
from qa.indexing.store import _vector_index, load_index, new_build_id, write_index
from qa.indexing.keyword import terms
from qa.answering.retrieval import rank_chunks
from qa.reading.sentences import split_sentences
from qa.types import Chunk, Sentence
from scaling import growth

pytestmark = pytest.mark.slow

FILLERS = 3000
QUESTIONS = [
    "When did Pakistan sign the Mutual Defense Assistance Agreement?",
    "Who did Bilawal Bhutto Zardari meet in New York?",
    "What does EWEC stand for?",
    "How much aid did the USA provide between 1948 and 2016?",
    "Which US president did Liaquat Ali Khan travel to see?",
    "What is the capital of Peru?",
]


def unit(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


def recall_at(k: int, approximate, exact, queries: np.ndarray) -> float:
    _, got = approximate.search(queries, k)
    _, want = exact.search(queries, k)
    return float(np.mean([len(set(g) & set(w)) / k for g, w in zip(got, want)]))


def test_hnsw_recall_at_5_against_flat(article_index, tmp_path):
    """Real corpora hold near-copies (license texts, boilerplate); they are what an HNSW graph finds hard."""
    rng = np.random.default_rng(5)
    real = np.concatenate([article_index.chunk_vectors.reconstruct_n(0, article_index.chunk_vectors.ntotal),
                           article_index.sentence_vectors])
    near_copies = unit(np.repeat(real, 40, axis=0) + 0.01 * rng.standard_normal((len(real) * 40, 384)))
    vectors = np.concatenate([real, near_copies, unit(rng.standard_normal((FILLERS, 384)))])
    approximate = _vector_index(vectors, hnsw_threshold=len(vectors) - 1)
    exact = _vector_index(vectors)
    assert isinstance(approximate, faiss.IndexHNSWFlat) and isinstance(exact, faiss.IndexFlatIP)
    faiss.write_index(approximate, str(tmp_path / "chunks.faiss"))       # as stored and read back
    approximate = faiss.read_index(str(tmp_path / "chunks.faiss"))
    queries = {
        "real questions": unit(np.stack([embedder.embed_query(q) for q in QUESTIONS])),
        "random directions": unit(rng.standard_normal((200, 384))),
        "near stored vectors": unit(vectors[rng.choice(len(vectors), 200)] + 0.05 * rng.standard_normal((200, 384))),
    }
    for kind, q in queries.items():
        assert recall_at(5, approximate, exact, q) >= 0.98, kind
    # reconstruct() (used for keyword hits beyond the dense depth, and to reuse vectors) is exact on HNSW
    assert np.array_equal(approximate.reconstruct_n(0, len(vectors)), vectors)


def _filler_index(article, folder, hnsw_threshold):
    """The article plus FILLERS one-sentence chunks with random vectors, some sharing the questions' words."""
    rng = np.random.default_rng(7)
    words = ["Pakistan", "agreement", "aid", "president", "minister", "corridor", "harbour", "railway"]
    sentences = [replace(s, entities=list(s.entities), chunks=list(s.chunks)) for s in article.sentences]
    chunks = [replace(c) for c in article.chunks]
    s0, c0 = len(sentences), len(chunks)
    for n in range(FILLERS):
        text = f"Filler {n} mentions {words[n % len(words)]} and {words[(n * 3) % len(words)]}."
        sentences.append(Sentence(s0 + n, "filler.txt", 100 * n, 100 * n + len(text), text, [], [c0 + n]))
        chunks.append(Chunk(c0 + n, "filler.txt", s0 + n, s0 + n, 100 * n, 100 * n + len(text), 12))
    random = unit(rng.standard_normal((FILLERS, 384)))
    chunk_vectors = np.concatenate([article.chunk_vectors.reconstruct_n(0, c0), random])
    sentence_vectors = np.concatenate([article.sentence_vectors, random])
    manifest = {**settings_record(ChunkSettings()), "build_id": new_build_id(), "built_at": "",
                "sources": article.manifest["sources"] + [{"source": "filler.txt"}],
                "counts": {"sources": 2, "sentences": len(sentences), "chunks": len(chunks)}}
    write_index(folder, manifest, sentences, chunks, chunk_vectors, sentence_vectors, hnsw_threshold=hnsw_threshold)
    return load_index(folder)


def test_hnsw_index_loads_and_answers_like_the_flat_one(article_index, tmp_path):
    approximate = _filler_index(article_index, tmp_path / "hnsw", hnsw_threshold=1000)
    exact = _filler_index(article_index, tmp_path / "flat", hnsw_threshold=None)
    assert approximate.manifest["faiss"] == {"chunks": "hnsw"} and exact.manifest["faiss"] == {"chunks": "flat"}
    from qa.indexing.store import HNSW_EF_SEARCH

    # a loaded index searches as deep as the one the recall test measures (loading used to reset it to 128)
    assert approximate.chunk_vectors.hnsw.efSearch == HNSW_EF_SEARCH == _vector_index(
        np.zeros((2, 384), np.float32), hnsw_threshold=1).hnsw.efSearch
    assert isinstance(approximate.chunk_vectors, faiss.IndexHNSWFlat)
    assert isinstance(exact.chunk_vectors, faiss.IndexFlatIP)
    settings = RetrievalSettings()
    reconstructed = 0
    for question in QUESTIONS:
        qvec, qterms = embedder.embed_query(question), terms(question)
        a = rank_chunks(approximate, qvec, qterms, settings)
        b = rank_chunks(exact, qvec, qterms, settings)
        assert [s.id for s in a[:5]] == [s.id for s in b[:5]], question
        assert np.allclose([s.score for s in a[:5]], [s.score for s in b[:5]], atol=1e-5)
        # keyword hits beyond the dense depth get their exact similarity through reconstruct()
        beyond = [s for s in a if s.keyword > 0 and s.id >= len(article_index.chunks)]
        assert all(abs(s.dense - float(exact.chunk_vectors.reconstruct(s.id) @ qvec)) < 1e-5 for s in beyond)
        reconstructed += len(beyond)
        answer, expected = ask(approximate, question), ask(exact, question)
        assert (answer.answer, answer.abstained) == (expected.answer, expected.abstained), question
        assert [c.to_dict() for c in answer.citations] == [c.to_dict() for c in expected.citations]
        assert abs(answer.confidence - expected.confidence) < 1e-4
    assert reconstructed > 100
    assert "May 1954" in ask(approximate, QUESTIONS[0]).answer


def test_build_switches_to_hnsw_above_the_threshold_and_reuses_its_vectors(article_index, tmp_path):
    folder = tmp_path / "index"
    report = build([DEFAULT_SOURCE], folder, hnsw_threshold=5)
    assert report.manifest["faiss"] == {"chunks": "hnsw"}
    index = load_index(folder)
    assert isinstance(index.chunk_vectors, faiss.IndexHNSWFlat)
    assert "May 1954" in ask(index, QUESTIONS[0]).answer
    flat = article_index.chunk_vectors.reconstruct_n(0, article_index.chunk_vectors.ntotal)
    assert np.allclose(index.chunk_vectors.reconstruct_n(0, index.chunk_vectors.ntotal), flat, atol=1e-5)
    # an incremental rebuild reads the vectors back out of the HNSW index
    extra = tmp_path / "extra.txt"
    extra.write_text("The harbour at Gwadar was dredged in 2007.\n", encoding="utf-8")
    report = build([DEFAULT_SOURCE, extra], folder, hnsw_threshold=5)
    assert report.reused == ["data/pak-us-diplomatic-relations.txt"] and report.indexed == [str(extra)]
    index = load_index(folder)
    assert np.allclose(index.chunk_vectors.reconstruct_n(0, len(flat)), flat, atol=1e-5)



def test_a_long_paragraph_is_split_in_linear_time():
    """The splitter once looked back over the whole paragraph before every full stop (200 KB took a minute)."""
    text = DEFAULT_SOURCE.read_text(encoding="utf-8")
    one_line = " ".join(text.split()) + " "
    small = one_line * (200_000 // len(one_line))       # 200 KB and 2 MB on one line, full stops and all
    big = one_line * (2_000_000 // len(one_line))
    ratio = growth(split_sentences, small, big)
    assert ratio < 40, f"10x the text took {ratio:.0f}x as long"
    spans = split_sentences(big)
    usual = {one_line[s:e] for s, e in split_sentences(one_line)}
    # the copies join where the page's last line has no full stop; every other sentence is as usual
    assert sum(big[s:e] in usual for s, e in spans) >= 0.95 * len(spans)
    assert all(big[s:e] == big[s:e].strip() for s, e in spans)


def test_text_without_newlines_or_full_stops_is_cut_under_the_budget():
    text = "word " * 400_000                                # 2 MB: one line, one "sentence"

    def prepare(t):
        return _prepare(Document("words.txt", DEFAULT_SOURCE, t, "0", "utf-8", len(t)), ChunkSettings())

    ratio = growth(prepare, text[:200_000], text)
    assert ratio < 40, f"10x the text took {ratio:.0f}x as long"
    prepared = prepare(text)
    assert max(prepared.tokens) <= ChunkSettings().max_tokens
    assert prepared.spans[0][0] == 0 and prepared.spans[-1][1] == len(text.rstrip())
    assert all(text[s:e] == text[s:e].strip() for s, e in prepared.spans)
