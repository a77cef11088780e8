"""Hybrid retrieval: dense and keyword scores fused for chunks, then for their sentences."""
from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from ..config import RetrievalSettings
from ..indexing.store import Index
from ..indexing.keyword import terms


@dataclass
class Scored:
    id: int
    score: float
    dense: float = 0.0
    keyword: float = 0.0


def _normalised_keyword(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores


def _search_one(vectors, qvec: np.ndarray, depth: int):
    """One question is one small search: run it on one OpenMP thread, then restore the setting.

    With FAISS's default two threads, its idle OpenMP workers kept spinning after each search and slowed
    the next question's embedding (measured at 1000x the article: ask 16.7 -> 11.9 ms, the bare
    embedding 16.2 -> 9.8 ms). The setting is shared with torch's OpenMP, hence the restore."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return vectors.search(qvec.reshape(1, -1), depth)
    finally:
        faiss.omp_set_num_threads(before)


def rank_chunks(index: Index, qvec: np.ndarray, qterms: list[str], settings: RetrievalSettings,
                mode: str = "hybrid") -> list[Scored]:
    """Chunks by fused score, best first (mode: hybrid, dense or keyword)."""
    n = index.chunk_vectors.ntotal
    depth = min(n, max(50, settings.top_k_chunks * 10))
    dense = {}
    if mode != "keyword" and n:
        sims, ids = _search_one(index.chunk_vectors, qvec, depth)
        dense = {int(i): float(s) for i, s in zip(ids[0], sims[0]) if i >= 0}
    keyword = _normalised_keyword(index.keyword_chunks.scores(qterms)) if mode != "dense" else np.zeros(n)
    if mode == "dense":
        candidates = set(dense)
    else:
        top = np.argpartition(-keyword, depth - 1)[:depth] if 0 < depth < n else np.arange(n)
        candidates = set(dense) | {int(i) for i in top if keyword[i] > 0}
    wd, wk = {"hybrid": (settings.dense_weight, settings.keyword_weight),
              "dense": (1.0, 0.0), "keyword": (0.0, 1.0)}[mode]
    missing = [i for i in candidates if i not in dense] if mode == "hybrid" else []
    if missing:     # keyword hits beyond the dense search's depth get their exact similarity
        vectors = np.stack([index.chunk_vectors.reconstruct(i) for i in missing])
        dense.update((i, float(s)) for i, s in zip(missing, vectors @ qvec))
    ranked = [Scored(i, wd * dense.get(i, 0.0) + wk * float(keyword[i]), dense.get(i, 0.0), float(keyword[i]))
              for i in candidates]
    ranked.sort(key=lambda s: -s.score)
    return ranked


def rank_sentences(index: Index, qvec: np.ndarray, qterms: list[str], chunks: list[Scored],
                   settings: RetrievalSettings, mode: str = "hybrid", labels: tuple = ()) -> list[Scored]:
    """Sentences of the top chunks, scored on their own, by their best chunk, and by holding an
    entity of a wanted type (`labels`) that the question does not already name."""
    chunk_score: dict[int, float] = {}
    top = chunks[: settings.top_k_chunks]
    best = top[0].score if top and top[0].score > 0 else 1.0
    for c in top:
        chunk = index.chunks[c.id]
        for sid in range(chunk.first, chunk.last + 1):
            chunk_score[sid] = max(chunk_score.get(sid, 0.0), c.score / best)
    if not chunk_score:
        return []
    ids = np.fromiter(chunk_score, dtype=np.int64)
    dense = index.sentence_vectors[ids] @ qvec if mode != "keyword" else np.zeros(len(ids))
    keyword = index.keyword_sentences.scores_for(qterms, ids) if mode != "dense" else np.zeros(len(ids))
    keyword = _normalised_keyword(keyword)
    wd, wk, wc = settings.sentence_dense_weight, settings.sentence_keyword_weight, settings.sentence_chunk_weight
    if mode == "dense":
        wd, wk = wd + wk, 0.0
    elif mode == "keyword":
        wd, wk = 0.0, wd + wk
    wt = settings.sentence_type_weight if labels else 0.0
    ranked = [Scored(int(sid), wd * float(d) + wk * float(k) + wc * chunk_score[int(sid)]
                     + wt * _has_answer_entity(index.sentences[int(sid)], labels, qterms), float(d), float(k))
              for sid, d, k in zip(ids, dense, keyword)]
    ranked.sort(key=lambda s: -s.score)
    return ranked


def _has_answer_entity(sentence, labels: tuple, qterms: list[str]) -> float:
    asked = set(qterms)
    for label, start, end in sentence.entities:
        if label in labels and not set(terms(sentence.text[start:end])) <= asked:
            return 1.0
    return 0.0
