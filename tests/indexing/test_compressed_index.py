"""Compact vectors at scale: the IVF-PQ chunk index (with float16 re-ranking) against exact search, and an
index over the compression threshold built, loaded, asked, rebuilt incrementally and refused when corrupt."""
import shutil
from dataclasses import replace

import faiss
import numpy as np
import pytest

from qa.indexing import embedder, store as index_store
from qa.answering.ask import ask
from qa.indexing.build import build
from qa.config import DEFAULT_SOURCE, ChunkSettings, RetrievalSettings, settings_record
from qa.indexing.store import (CHUNKS_F16, SENTENCES_F16, CompressedVectors, IndexError_, compressed_index,
                            load_index, new_build_id, write_index)
from qa.indexing.keyword import terms
from qa.answering.retrieval import rank_chunks
from qa.types import Chunk, Sentence

pytestmark = pytest.mark.slow

QUESTIONS = [
    "When did Pakistan sign the Mutual Defense Assistance Agreement?",
    "Who did Bilawal Bhutto Zardari meet in New York?",
    "How much aid did the USA provide between 1948 and 2016?",
    "Which US president did Liaquat Ali Khan travel to see?",
]
FILLERS = 10_000


def unit(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


def realistic_vectors(article, rng) -> np.ndarray:
    """The article's real vectors, 40 near-copies of each (licences, boilerplate), and topical clusters:
    points around 400 centres, which is how embeddings of a large corpus lie (not uniform on the sphere)."""
    real = np.concatenate([article.chunk_vectors.reconstruct_n(0, article.chunk_vectors.ntotal),
                           article.sentence_vectors])
    near_copies = unit(np.repeat(real, 40, axis=0) + 0.01 * rng.standard_normal((len(real) * 40, 384)))
    centres = unit(rng.standard_normal((400, 384)))
    clustered = unit(centres[rng.integers(0, 400, FILLERS)] + 0.06 * rng.standard_normal((FILLERS, 384)))
    return np.concatenate([real, near_copies, clustered])


def recall_at_5(found: np.ndarray, exact_scores: np.ndarray, vectors: np.ndarray, queries: np.ndarray) -> float:
    """Share of the 5 found whose exact similarity reaches the exact 5th best (ties among near-copies count)."""
    hits = [np.sum(vectors[f[f >= 0]] @ q >= e[4] - 1e-3) for f, e, q in zip(found, exact_scores, queries)]
    return float(np.mean(np.minimum(hits, 5)) / 5)


def test_compressed_recall_at_5_against_exact_and_bytes_per_vector(article_index, tmp_path):
    rng = np.random.default_rng(11)
    vectors = realistic_vectors(article_index, rng)
    index = compressed_index(vectors)
    faiss.write_index(index, str(tmp_path / "chunks.faiss"))          # as stored and read back
    np.save(tmp_path / "exact.npy", vectors.astype(np.float16))
    compressed = CompressedVectors(faiss.read_index(str(tmp_path / "chunks.faiss")),
                                   np.load(tmp_path / "exact.npy", mmap_mode="r"))
    exact = faiss.IndexFlatIP(384)
    exact.add(vectors)
    queries = {
        "real questions": unit(np.stack([embedder.embed_query(q) for q in QUESTIONS])),
        "near stored vectors": unit(vectors[rng.choice(len(vectors), 300)] + 0.05 * rng.standard_normal((300, 384))),
    }   # (not random directions: every stored vector is about as far from one, so no index has a top 5 to find)
    for kind, q in queries.items():
        want, _ = exact.search(q, 5)
        for depth in (5, 50):            # 50: the depth retrieval asks for
            _, got = compressed.search(q, depth)
            assert recall_at_5(got[:, :5], want, vectors, q) >= 0.95, (kind, depth)
    # what stays in memory: PQ codes and ids in the inverted lists
    ivf = faiss.extract_index_ivf(index)
    in_lists = sum(ivf.invlists.list_size(i) for i in range(ivf.nlist)) * (ivf.code_size + 8)
    assert ivf.code_size == 48 and in_lists / len(vectors) <= 64
    # reconstruct() reads the float16 copy: within float16 rounding of the stored vectors
    assert np.abs(compressed.reconstruct_n(0, len(vectors)) - vectors).max() < 1e-3


def _filler_index(article, folder, compress_threshold):
    """The article plus one-sentence filler chunks with clustered vectors, some sharing the questions' words."""
    rng = np.random.default_rng(7)
    n_fill = 3000
    words = ["Pakistan", "agreement", "aid", "president", "minister", "corridor", "harbour", "railway"]
    sentences = [replace(s, entities=list(s.entities), chunks=list(s.chunks)) for s in article.sentences]
    chunks = [replace(c) for c in article.chunks]
    s0, c0 = len(sentences), len(chunks)
    for n in range(n_fill):
        text = f"Filler {n} mentions {words[n % len(words)]} and {words[(n * 3) % len(words)]}."
        sentences.append(Sentence(s0 + n, "filler.txt", 100 * n, 100 * n + len(text), text, [], [c0 + n]))
        chunks.append(Chunk(c0 + n, "filler.txt", s0 + n, s0 + n, 100 * n, 100 * n + len(text), 12))
    centres = unit(rng.standard_normal((50, 384)))
    random = unit(centres[rng.integers(0, 50, n_fill)] + 0.06 * rng.standard_normal((n_fill, 384)))
    chunk_vectors = np.concatenate([article.chunk_vectors.reconstruct_n(0, c0), random])
    sentence_vectors = np.concatenate([article.sentence_vectors, random])
    manifest = {**settings_record(ChunkSettings()), "build_id": new_build_id(), "built_at": "",
                "sources": article.manifest["sources"] + [{"source": "filler.txt"}],
                "counts": {"sources": 2, "sentences": len(sentences), "chunks": len(chunks)}}
    write_index(folder, manifest, sentences, chunks, chunk_vectors, sentence_vectors,
                compress_threshold=compress_threshold)
    return load_index(folder)


@pytest.fixture(scope="module")
def compressed_folder(article_index, tmp_path_factory):
    """The article and fillers in the compressed layout, written once for the tests below."""
    folder = tmp_path_factory.mktemp("compressed") / "index"
    _filler_index(article_index, folder, compress_threshold=1000)
    return folder


def test_compressed_index_loads_and_answers_like_the_flat_one(article_index, compressed_folder, tmp_path):
    compressed = load_index(compressed_folder)
    exact = _filler_index(article_index, tmp_path / "flat", compress_threshold=None)
    assert compressed.manifest["faiss"] == {"chunks": "ivfpq", "sentences": "float16"}
    assert exact.manifest["faiss"] == {"chunks": "flat"}
    assert not (compressed_folder / "sentences.faiss").exists()
    assert isinstance(compressed.chunk_vectors, CompressedVectors)
    assert isinstance(compressed.sentence_vectors, np.memmap) and compressed.sentence_vectors.dtype == np.float16
    settings = RetrievalSettings()
    for question in QUESTIONS:
        qvec, qterms = embedder.embed_query(question), terms(question)
        a, b = rank_chunks(compressed, qvec, qterms, settings), rank_chunks(exact, qvec, qterms, settings)
        assert [s.id for s in a[:5]] == [s.id for s in b[:5]], question
        assert np.allclose([s.score for s in a[:5]], [s.score for s in b[:5]], atol=2e-3)
        answer, expected = ask(compressed, question), ask(exact, question)
        assert (answer.answer, answer.abstained) == (expected.answer, expected.abstained), question
        assert [c.to_dict() for c in answer.citations] == [c.to_dict() for c in expected.citations]
    assert "May 1954" in ask(compressed, QUESTIONS[0]).answer


def test_build_over_the_threshold_compresses_and_rebuilds_incrementally(article_index, tmp_path, monkeypatch):
    monkeypatch.setattr(index_store, "COMPRESS_THRESHOLD", 5)
    # 14 chunks train a tiny PQ whose shortlist holds them all, so the search is exact here: this tests the path
    folder = tmp_path / "index"
    report = build([DEFAULT_SOURCE], folder)
    assert report.manifest["faiss"] == {"chunks": "ivfpq", "sentences": "float16"}
    assert {CHUNKS_F16, SENTENCES_F16} <= {p.name for p in folder.iterdir()}
    index = load_index(folder)
    assert "May 1954" in ask(index, QUESTIONS[0]).answer
    flat = article_index.chunk_vectors.reconstruct_n(0, article_index.chunk_vectors.ntotal)
    assert np.abs(index.chunk_vectors.reconstruct_n(0, len(flat)) - flat).max() < 1e-3
    assert np.abs(index.sentence_vectors - article_index.sentence_vectors).max() < 1e-3
    # an incremental rebuild takes the vectors back from the float16 copies and embeds only the new file
    extra = tmp_path / "extra.txt"
    extra.write_text("The harbour at Gwadar was dredged in 2007.\n", encoding="utf-8")
    report = build([DEFAULT_SOURCE, extra], folder)
    assert report.reused == ["data/pak-us-diplomatic-relations.txt"] and report.indexed == [str(extra)]
    rebuilt = load_index(folder)
    assert np.array_equal(rebuilt.chunk_vectors.reconstruct_n(0, len(flat)), index.chunk_vectors.reconstruct_n(0, len(flat)))
    assert "2007" in ask(rebuilt, "When was the harbour at Gwadar dredged?").answer
    # below the threshold nothing changes: the same corpus goes back to exact float32 indexes
    monkeypatch.setattr(index_store, "COMPRESS_THRESHOLD", 200_000)
    report = build([DEFAULT_SOURCE, extra], folder, force=True)
    assert report.manifest["faiss"] == {"chunks": "flat"}
    assert isinstance(load_index(folder).chunk_vectors, faiss.IndexFlatIP)


@pytest.mark.parametrize("damage", ["truncate chunks.f16", "drop sentences.f16", "float32 sentences.f16",
                                    "garbage chunks.faiss", "flat chunks.faiss", "unknown layout"])
def test_a_damaged_compressed_index_is_one_clear_error(article_index, compressed_folder, tmp_path, damage):
    folder = tmp_path / "index"
    shutil.copytree(compressed_folder, folder)
    n = len(article_index.sentences) + 3000
    if damage == "truncate chunks.f16":
        data = (folder / CHUNKS_F16).read_bytes()
        (folder / CHUNKS_F16).write_bytes(data[:len(data) // 2])
    elif damage == "drop sentences.f16":
        (folder / SENTENCES_F16).unlink()
    elif damage == "float32 sentences.f16":
        np.save(folder / SENTENCES_F16, np.zeros((n, 384), dtype=np.float32))
    elif damage == "garbage chunks.faiss":
        (folder / "chunks.faiss").write_bytes(b"\0" * 1000)
    elif damage == "flat chunks.faiss":
        flat = faiss.IndexFlatIP(384)
        flat.add(np.zeros((len(article_index.chunks) + 3000, 384), dtype=np.float32))
        faiss.write_index(flat, str(folder / "chunks.faiss"))
    else:
        manifest = (folder / "manifest.json").read_text(encoding="utf-8")
        (folder / "manifest.json").write_text(manifest.replace('"ivfpq"', '"ivfpq4"'), encoding="utf-8")
    with pytest.raises(IndexError_) as error:
        load_index(folder)
    message = str(error.value)
    assert "\n" not in message and "qa build" in message, message
