"""The baseline a user would build by hand: fixed character windows, FAISS, the most similar sentence.

Fixed 500-character chunks with 50 characters of overlap, embedded with the
same model into a flat inner-product FAISS index (cosine over unit vectors);
the top chunk is split naively on [.!?] followed by whitespace, and its most
similar sentence is the answer. No abstention, no short span. The file is read
the way a user would (`Path.read_text`, universal newlines), and offsets are
the window start plus the sentence's position in the window: honest, and
inexact wherever that reading differs from the file as stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK_CHARS = 500
OVERLAP_CHARS = 50
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def fixed_windows(length: int, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[tuple[int, int]]:
    """(start, end) of windows of `size` characters, each starting `size - overlap` after the last."""
    if size <= overlap:
        raise ValueError("the window must be longer than its overlap")
    windows = []
    start = 0
    while start < length:
        end = min(start + size, length)
        windows.append((start, end))
        if end == length:
            break
        start += size - overlap
    return windows


def naive_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of the pieces between [.!?]+whitespace breaks, stripped of surrounding spaces."""
    out = []
    pos = 0
    for piece in _SENTENCE_BREAK.split(text):
        found = text.find(piece, pos)
        stripped = piece.strip()
        if stripped:
            start = found + piece.index(stripped)
            out.append((start, start + len(stripped)))
        pos = found + len(piece)
    return out


@dataclass
class BaselineSentence:
    source: str
    start: int
    end: int
    text: str


@dataclass
class BaselineChunk:
    source: str
    start: int
    end: int
    text: str
    sentences: list[BaselineSentence]


class BaselineIndex:
    """Chunks and vectors for the baseline, over the same source files as an engine index."""

    def __init__(self, chunks: list[BaselineChunk], chunk_vectors, sentence_vectors: list[np.ndarray]):
        self.chunks = chunks
        self.chunk_vectors = chunk_vectors          # faiss.IndexFlatIP
        self.sentence_vectors = sentence_vectors    # one (n_sentences, dims) array per chunk

    @classmethod
    def build(cls, files: dict[str, Path]) -> "BaselineIndex":
        """`files` maps a source name (as the engine records it) to its path."""
        import faiss

        from ..indexing import embedder

        chunks = []
        for source, path in files.items():
            text = path.read_text(encoding="utf-8")
            for start, end in fixed_windows(len(text)):
                window = text[start:end]
                sentences = [BaselineSentence(source, start + s, start + e, window[s:e])
                             for s, e in naive_sentences(window)]
                chunks.append(BaselineChunk(source, start, end, window, sentences))
        vectors = embedder.embed_texts([c.text for c in chunks])
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        flat = [s.text for c in chunks for s in c.sentences]
        sentence_vectors = embedder.embed_texts(flat)
        per_chunk, pos = [], 0
        for c in chunks:
            per_chunk.append(sentence_vectors[pos:pos + len(c.sentences)])
            pos += len(c.sentences)
        return cls(chunks, index, per_chunk)

    def search(self, question: str) -> tuple[list[int], list[tuple[BaselineSentence, float]]]:
        """Chunk ids best first, and the sentences of the top chunks, most similar first within each chunk."""
        from ..indexing import embedder

        qvec = embedder.embed_query(question)
        _, ids = self.chunk_vectors.search(qvec.reshape(1, -1), self.chunk_vectors.ntotal)
        ranked = [int(i) for i in ids[0] if i >= 0]
        sentences: list[tuple[BaselineSentence, float]] = []
        for cid in ranked[:3]:
            sims = self.sentence_vectors[cid] @ qvec if len(self.chunks[cid].sentences) else np.zeros(0)
            for j in np.argsort(-sims, kind="stable"):
                sentences.append((self.chunks[cid].sentences[int(j)], float(sims[j])))
        return ranked, sentences
