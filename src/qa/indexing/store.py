"""Build, write, swap in and load the index folder.

Layout of an index folder (plain files, no pickle):
  manifest.json            model, dims, settings, sources with SHA-256, counts, build time
  sentences.jsonl          one Sentence a line, with exact offsets into its source
  chunks.jsonl             one Chunk a line (sentence range and offsets)
  chunks.faiss             chunk vectors (inner product over unit vectors)
  sentences.faiss          sentence vectors
  keyword_chunks/          BM25 over chunks (bm25s files)
  keyword_sentences/       BM25 over sentences
  sources/<sha256>.txt     the extracted text of each HTML, PDF or DOCX source: its citations' offsets point
                           into this (manifest: "offsets": "extracted-text", "text": "sources/<sha256>.txt";
                           PDF and DOCX also "format", and "pages" or "headings": qa.reading.positions); the
                           offsets of other sources point into the file itself ("offsets": "file")

Above COMPRESS_THRESHOLD chunks (manifest "faiss": {"chunks": "ivfpq", "sentences": "float16"}) the vectors
are kept compact instead:
  chunks.faiss             IVF with product quantisation (48 one-byte codes a vector): the search
  chunks.f16.npy           every chunk vector as float16, memory-mapped: re-ranks the search's shortlist,
                           gives exact vectors back for keyword hits and incremental rebuilds
  sentences.f16.npy        every sentence vector as float16, memory-mapped (no sentences.faiss): a question
                           reads the rows of its candidate sentences only
"""
from __future__ import annotations

import codecs
import functools
import glob
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..config import MODEL_DIMS, ChunkSettings, settings_record
from .keyword import KeywordIndex
from ..reading.positions import layout_problem, locate
from ..types import Chunk, Sentence

MANIFEST = "manifest.json"
FILES = ("sentences.jsonl", "chunks.jsonl", "chunks.faiss", "sentences.faiss", "keyword_chunks", "keyword_sentences")
SOURCES = "sources"
CHUNKS_F16, SENTENCES_F16 = "chunks.f16.npy", "sentences.f16.npy"
INDEX_ENTRIES = frozenset((MANIFEST, *FILES, SOURCES, CHUNKS_F16, SENTENCES_F16))   # all a build may write
HNSW_THRESHOLD = 50_000   # chunks; below it an exact flat index is fast enough
HNSW_EF_SEARCH = 256      # when built and when loaded: the setting the recall test checks is the one served
# chunks; above it the vectors are compressed (IVF-PQ in memory, float16 on disk); eval/compressed-index.md
COMPRESS_THRESHOLD = 200_000
PQ_M = 48                 # one-byte codes a vector: 48 bytes + 8 for its id in the inverted lists
PQ_TRAIN_PER_LIST = 64    # training sample: this many vectors per inverted list (at least 39 by k-means' rule)
PQ_TRAIN_MIN = 20_000     # ... and never fewer (the PQ codebooks' 256 centroids each need samples too)
# share of the inverted lists searched per question: questions lie far from the sentences they match, so
# their top 5 spread over many lists (measured on 49,000 real sentence vectors: 128 lists, 64 searched
# held 98% of the exact top 5; 32 held 94%)
NPROBE_SHARE = 0.5
REFINE = 4                # shortlist = REFINE x asked, re-ranked with the float16 vectors
# ... and at least this many: recall@5 against exact search at 1,000,000 vectors (eval/compressed-index.md)
# was 0.882 with 200, 0.921 with 400, 0.949 with 800, 0.962 with 1,200; 200 was enough at 49,000
REFINE_MIN = 1200


class IndexError_(RuntimeError):
    """The index cannot be used; the message says why and what to do."""


@dataclass
class Index:
    folder: Path
    manifest: dict
    sentences: list[Sentence]
    chunks: list[Chunk]
    chunk_vectors: object            # faiss index
    sentence_vectors: np.ndarray     # (n_sentences, dims) float32, unit length
    keyword_chunks: KeywordIndex
    keyword_sentences: KeywordIndex

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]

    @functools.cached_property
    def _source_info(self) -> dict:
        return {info["source"]: info for info in self.manifest.get("sources", [])}

    def position(self, source: str, start: int, end: int) -> dict:
        """Where a span of a source lies: {"page", "end_page"} for a PDF, {"heading"} for a .docx, else {}."""
        info = self._source_info.get(source)
        return locate(info, start, end) if info else {}

    def source_text(self, source: str, root: Path | None = None) -> str | None:
        """The text a source's citation offsets point into, or None when it is no longer available.

        For HTML that is the extracted text stored in the index folder; for other sources it is the file
        itself (relative paths are taken from `root`, by default the project root), if its SHA-256 still
        matches the manifest.
        """
        import hashlib

        from ..config import PROJECT_ROOT
        from ..reading.documents import SourceError, _read_limited

        info = next((s for s in self.manifest.get("sources", []) if s.get("source") == source), None)
        if info is None:
            return None
        try:
            if info.get("text"):
                return (self.folder / info["text"]).read_text(encoding="utf-8")
            path = Path(source) if Path(source).is_absolute() else (root or PROJECT_ROOT) / source
            data = _read_limited(path, info.get("bytes"))    # never blocks on a FIFO nor reads a device
        except (OSError, SourceError):
            return None
        if hashlib.sha256(data).hexdigest() != info.get("sha256"):
            return None
        return data.decode(info.get("encoding", "utf-8"))


class CompressedVectors:
    """Chunk vectors above COMPRESS_THRESHOLD: an IVF-PQ index in memory finds a shortlist, the float16 copy
    (memory-mapped, only the shortlist's rows are read) re-ranks it. Offers what the code uses of a faiss
    index: ntotal, d, search, reconstruct, reconstruct_n (the latter two from float16, not from PQ codes)."""

    def __init__(self, index, exact: np.ndarray, refine: int = REFINE, refine_min: int = REFINE_MIN):
        import faiss

        self.index, self.exact = index, exact
        self.ivf = faiss.extract_index_ivf(index)
        self.refine, self.refine_min = refine, refine_min

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    @property
    def d(self) -> int:
        return self.index.d

    @property
    def nprobe(self) -> int:
        return self.ivf.nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.ivf.nprobe = value

    def search(self, queries: np.ndarray, k: int):
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.d)
        shortlist = min(self.ntotal, max(k * self.refine, self.refine_min))
        sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if not self.ntotal:
            return sims, ids
        _, found = self.index.search(queries, shortlist)
        for row, (query, candidates) in enumerate(zip(queries, found)):
            candidates = np.unique(candidates[candidates >= 0])      # sorted: the file is read in order
            scores = self.exact[candidates].astype(np.float32) @ query
            best = np.argsort(-scores, kind="stable")[:k]
            sims[row, :len(best)], ids[row, :len(best)] = scores[best], candidates[best]
        return sims, ids

    def reconstruct(self, i: int) -> np.ndarray:
        return np.asarray(self.exact[int(i)], dtype=np.float32)

    def reconstruct_n(self, i0: int, n: int) -> np.ndarray:
        return np.asarray(self.exact[i0:i0 + n], dtype=np.float32)


def normalise(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- writing

def write_index(folder: Path, manifest: dict, sentences: list[Sentence], chunks: list[Chunk],
                chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, texts: dict[str, str] | None = None,
                hnsw_threshold: int | None = None, compress_threshold: int | None = None) -> dict:
    """Write every file of an index into a new folder; the manifest goes last. Returns the manifest written.

    `texts` maps file names under the folder (e.g. "sources/<sha256>.txt") to text to store with the index.
    The chunk vectors go into an approximate HNSW index when there are more than `hnsw_threshold` of them
    (default HNSW_THRESHOLD), an exact flat one otherwise; above `compress_threshold` (default
    COMPRESS_THRESHOLD, read when called) into a compressed IVF-PQ index with float16 copies of the chunk and
    sentence vectors beside it (see the module's docstring).
    """
    import faiss

    threshold = HNSW_THRESHOLD if hnsw_threshold is None else hnsw_threshold
    compress = len(chunks) > (COMPRESS_THRESHOLD if compress_threshold is None else compress_threshold)
    folder.mkdir(parents=True)
    _write_jsonl(folder / "sentences.jsonl", _rows(Sentence, sentences))
    _write_jsonl(folder / "chunks.jsonl", _rows(Chunk, chunks))
    if compress:
        _write_float16(folder / CHUNKS_F16, chunk_vectors)
        _write_float16(folder / SENTENCES_F16, sentence_vectors)
        faiss.write_index(compressed_index(chunk_vectors), str(folder / "chunks.faiss"))
        kind = {"chunks": "ivfpq", "sentences": "float16"}
    else:
        faiss.write_index(_vector_index(chunk_vectors, hnsw_threshold=threshold), str(folder / "chunks.faiss"))
        faiss.write_index(_vector_index(sentence_vectors, flat=True), str(folder / "sentences.faiss"))
        kind = {"chunks": "hnsw" if len(chunks) > threshold else "flat"}
    chunk_texts = [_chunk_text(c, sentences) for c in chunks]
    KeywordIndex.build(chunk_texts).save(folder / "keyword_chunks")
    KeywordIndex.build([s.text for s in sentences]).save(folder / "keyword_sentences")
    for name, text in (texts or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    manifest = dict(manifest, faiss=kind)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _fsync_tree(folder)
    return manifest


def _chunk_text(chunk: Chunk, sentences: list[Sentence]) -> str:
    return " ".join(normalise(sentences[i].text) for i in range(chunk.first, chunk.last + 1))


def _vector_index(vectors: np.ndarray, flat: bool = False, hnsw_threshold: int | None = None):
    import faiss

    dims = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else MODEL_DIMS
    threshold = HNSW_THRESHOLD if hnsw_threshold is None else hnsw_threshold
    if flat or len(vectors) <= threshold:
        index = faiss.IndexFlatIP(dims)
    else:
        # measured on the 1000x bench corpus (about 17,700 chunks, many near-duplicate licence texts): M=32,
        # efConstruction=80, efSearch=128 missed the best chunk for 6% of questions (recall@5 0.95);
        # these settings found it for all 50 (recall@5 0.99) at about 0.3 ms a search
        index = faiss.IndexHNSWFlat(dims, 48, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 400
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def compressed_index(vectors: np.ndarray, m: int | None = None, nlist: int | None = None, seed: int = 0):
    """IVF-PQ over unit vectors (inner product), trained on a fixed-seed sample, vectors added in blocks.

    `vectors` may be float16 or a memory map: only the sample and one block at a time are float32 in memory.
    Sets too small to train 256 centroids a sub-quantiser (only tests build those) get fewer bits. (OPQ was
    left out: it made training many times slower, and re-ranking the shortlist with float16 vectors
    recovers what PQ loses.)
    """
    import faiss

    n, dims = len(vectors), vectors.shape[1]
    m, nlist = m or PQ_M, nlist or ivf_lists(n)
    bits = 8 if n >= 256 * 39 else max(1, min(8, int(np.log2(max(n, 2) / 39))))
    index = faiss.index_factory(dims, f"IVF{nlist},PQ{m}x{bits}", faiss.METRIC_INNER_PRODUCT)
    size = min(n, max(PQ_TRAIN_MIN, PQ_TRAIN_PER_LIST * nlist))
    sample = np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)      # retrieval sets one thread per question; building may use all
    try:
        index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
        for b in range(0, n, 65_536):
            index.add(np.ascontiguousarray(vectors[b:b + 65_536], dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(before)
    set_nprobe(index)
    return index


def set_nprobe(index, share: float | None = None) -> None:
    ivf = faiss_ivf(index)
    ivf.nprobe = max(1, round(ivf.nlist * (NPROBE_SHARE if share is None else share)))


def faiss_ivf(index):
    import faiss

    return faiss.extract_index_ivf(index)


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: about sqrt(n) / 2, a power of two, up to 65,536 (and 39 vectors a list)."""
    return int(max(1, min(65_536, n // 39, 2 ** round(np.log2(np.sqrt(max(n, 1)) / 2)))))


def _write_float16(path: Path, vectors: np.ndarray, block: int = 65_536) -> None:
    """Vectors as a float16 .npy file, written block by block (never a second full copy in memory)."""
    dims = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else MODEL_DIMS
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(len(vectors), dims))
    for b in range(0, len(vectors), block):
        out[b:b + block] = vectors[b:b + block]
    out.flush()
    del out


def _rows(kind, items):
    """Each item as a dict of its fields; dataclasses.asdict deep-copies every list and took half the writing."""
    names = [f.name for f in fields(kind)]
    return ({name: getattr(item, name) for name in names} for item in items)


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- loading

def check_manifest(manifest: dict, chunking: ChunkSettings | None = None) -> None:
    """Fail clearly when an index was built by other code, model or settings, or its manifest is malformed."""
    expected = settings_record(chunking or ChunkSettings())
    for key in ("format", "model", "dims"):
        if manifest.get(key) != expected[key]:
            raise IndexError_(
                f"index was built with {key}={manifest.get(key)!r} but this code uses {expected[key]!r}; "
                "rebuild it with `qa build`"
            )
    problem = _manifest_problem(manifest)
    if problem:
        raise IndexError_(f"index manifest is malformed ({problem}); rebuild with `qa build --force`")


def _is_int(value) -> bool:
    return type(value) is int          # not bool, not float


def _manifest_problem(manifest: dict) -> str | None:
    """What is wrong with the shape of a manifest that everything after loading relies on, or None."""
    if not isinstance(manifest.get("build_id"), str):
        return "build_id is not a string"
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(_is_int(counts.get(k)) and counts[k] >= 0
                                               for k in ("sources", "sentences", "chunks")):
        return "counts is not a table of sources, sentences and chunks"
    sources = manifest.get("sources")
    if not isinstance(sources, list) or len(sources) != counts["sources"]:
        return "sources is not a list of as many sources as counted"
    names = set()
    for info in sources:
        if not isinstance(info, dict) or not isinstance(info.get("source"), str) or info["source"] in names:
            return "a source without a name of its own"
        names.add(info["source"])
        for key, kind in (("sha256", str), ("encoding", str), ("text", str), ("text_sha256", str)):
            if key in info and not isinstance(info[key], kind):
                return f"{key} of {info['source']} is not a {kind.__name__}"
        for key in ("bytes", "chars", "sentences", "chunks"):
            if key in info and not (_is_int(info[key]) and info[key] >= 0):
                return f"{key} of {info['source']} is not a count"
        if info.get("offsets", "file") not in ("file", "extracted-text"):
            return f"offsets of {info['source']} is neither 'file' nor 'extracted-text'"
        if "encoding" in info:
            try:
                codecs.lookup(info["encoding"])
            except LookupError:
                return f"unknown encoding {info['encoding']!r} for {info['source']}"
        if "text" in info and not re.fullmatch(rf"{SOURCES}/[0-9a-f]{{64}}\.txt", info["text"]):
            return f"text of {info['source']} is not a file in {SOURCES}/"
        layout = layout_problem(info)
        if layout:
            return f"{layout} ({info['source']})"
    kind = manifest.get("faiss", {"chunks": "flat"})
    if kind not in ({"chunks": "flat"}, {"chunks": "hnsw"}, {"chunks": "ivfpq", "sentences": "float16"}):
        return "faiss is not one of the vector layouts this code writes"
    return None


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise IndexError_(f"no index at {folder}; build one with `qa build`")
    if not path.is_file():
        raise IndexError_(f"{folder} is not an index (no {MANIFEST}); build one with `qa build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexError_(f"index manifest {path} is corrupt ({exc}); rebuild with `qa build --force`") from None
    except OSError as exc:
        raise IndexError_(f"cannot read index manifest {path}: {exc.strerror or exc}") from None
    if not isinstance(manifest, dict) or "build_id" not in manifest:
        raise IndexError_(f"index manifest {path} is incomplete; rebuild with `qa build --force`")
    return manifest


def load_index(folder: Path | str) -> Index:
    """Load an index folder, checking that it matches this code's model and format.

    A rebuild may swap a new folder in while this reads; then the files read may belong to two builds,
    so the manifest is read again at the end and the load repeated if its build_id changed.
    """
    folder = Path(folder)
    for attempt in range(3):
        manifest = read_manifest(folder)
        check_manifest(manifest)
        try:
            index = _load_files(folder, manifest)
        except IndexError_:
            if attempt == 2 or _build_id(folder) == manifest["build_id"]:
                raise
            continue
        if _build_id(folder) == manifest["build_id"]:
            return index
    raise IndexError_(f"index at {folder} kept changing while it was read; try again when the rebuild ends")


def _build_id(folder: Path) -> str | None:
    try:
        return read_manifest(folder).get("build_id")
    except IndexError_:
        return None


def _load_files(folder: Path, manifest: dict) -> Index:
    import faiss

    try:
        sentences = [Sentence(**row) for row in _read_jsonl(folder / "sentences.jsonl")]
        chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
        chunk_vectors = faiss.read_index(str(folder / "chunks.faiss"))
        if manifest.get("faiss", {}).get("chunks") == "ivfpq":
            chunk_vectors, sentence_vectors = _compressed_vectors(folder, manifest, chunk_vectors)
        else:
            sentence_index = faiss.read_index(str(folder / "sentences.faiss"))
            sentence_vectors = sentence_index.reconstruct_n(0, sentence_index.ntotal) if sentence_index.ntotal \
                else np.zeros((0, manifest["dims"]), dtype=np.float32)
            sentence_vectors = np.ascontiguousarray(sentence_vectors)
        keyword_chunks = KeywordIndex.load(folder / "keyword_chunks")
        keyword_sentences = KeywordIndex.load(folder / "keyword_sentences")
    except IndexError_:
        raise
    except Exception as exc:  # faiss, json and bm25s raise many kinds
        raise IndexError_(f"index at {folder} is corrupt or incomplete ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}); rebuild with `qa build --force`") from None
    counts = manifest.get("counts", {})
    if (len(sentences), len(chunks), chunk_vectors.ntotal, len(sentence_vectors)) != (
            counts.get("sentences"), counts.get("chunks"), counts.get("chunks"), counts.get("sentences")):
        raise IndexError_(f"index at {folder} is inconsistent (counts differ from its manifest); "
                          "rebuild with `qa build --force`")
    if chunk_vectors.d != manifest["dims"]:
        raise IndexError_(f"index at {folder} holds {chunk_vectors.d}-dim vectors but its manifest says "
                          f"{manifest['dims']}; rebuild with `qa build --force`")
    problem = _records_problem(manifest, sentences, chunks) or (
        None if (keyword_chunks.num_docs, keyword_sentences.num_docs) == (len(chunks), len(sentences))
        else "its keyword indexes hold other numbers of chunks and sentences")
    if problem:
        raise IndexError_(f"index at {folder} is inconsistent ({problem}); rebuild with `qa build --force`")
    if hasattr(chunk_vectors, "hnsw"):
        chunk_vectors.hnsw.efSearch = HNSW_EF_SEARCH      # was 128 here while builds set 256: recall 0.95 vs 0.99
    return Index(folder, manifest, sentences, chunks, chunk_vectors, sentence_vectors,
                 keyword_chunks, keyword_sentences)


def _compressed_vectors(folder: Path, manifest: dict, index) -> tuple[CompressedVectors, np.ndarray]:
    """The IVF-PQ chunk index with its float16 copy, and the sentence vectors, both memory-mapped and checked."""
    import faiss

    counts = manifest["counts"]
    if faiss.try_extract_index_ivf(index) is None or not index.is_trained:
        raise IndexError_(f"index at {folder} is inconsistent (chunks.faiss is not a trained IVF index); "
                          "rebuild with `qa build --force`")
    arrays = []
    for name, count in ((CHUNKS_F16, counts["chunks"]), (SENTENCES_F16, counts["sentences"])):
        array = np.load(folder / name, mmap_mode="r", allow_pickle=False)
        if array.dtype != np.float16 or array.shape != (count, manifest["dims"]):
            raise IndexError_(f"index at {folder} is inconsistent ({name} holds {array.dtype} {array.shape}, "
                              f"not float16 ({count}, {manifest['dims']})); rebuild with `qa build --force`")
        arrays.append(array)
    set_nprobe(index)
    return CompressedVectors(index, arrays[0]), arrays[1]


def _records_problem(manifest: dict, sentences: list[Sentence], chunks: list[Chunk]) -> str | None:
    """What makes the sentences and chunks unusable (wrong types, offsets out of range), or None.

    Everything after loading indexes with these numbers; one bad one answered 500 to every question.
    One pass over each list, so it costs a small part of reading them.
    """
    chars = {info["source"]: info.get("chars") for info in manifest["sources"]}
    n_sentences, n_chunks = len(sentences), len(chunks)
    for n, s in enumerate(sentences):
        if not (_is_int(s.id) and s.id == n and isinstance(s.source, str) and _is_int(s.start) and _is_int(s.end)
                and isinstance(s.text, str) and isinstance(s.entities, list) and isinstance(s.chunks, list)):
            return f"sentence {n} has fields of the wrong type or is out of order"
        if s.source not in chars:
            return f"sentence {n} comes from a source the manifest does not list"
        limit = chars[s.source]
        if not (0 <= s.start <= s.end and s.end - s.start == len(s.text)) or (_is_int(limit) and s.end > limit):
            return f"sentence {n} has offsets that do not fit its text or source"
        for entity in s.entities:
            if not (isinstance(entity, list) and len(entity) == 3 and isinstance(entity[0], str)
                    and _is_int(entity[1]) and _is_int(entity[2]) and 0 <= entity[1] <= entity[2] <= len(s.text)):
                return f"sentence {n} has a malformed entity"
        for c in s.chunks:
            if not (_is_int(c) and 0 <= c < n_chunks):
                return f"sentence {n} names a chunk that does not exist"
    for n, c in enumerate(chunks):
        if not (_is_int(c.id) and c.id == n and isinstance(c.source, str) and _is_int(c.first) and _is_int(c.last)
                and _is_int(c.start) and _is_int(c.end) and _is_int(c.tokens)):
            return f"chunk {n} has fields of the wrong type or is out of order"
        if not 0 <= c.first <= c.last < n_sentences:
            return f"chunk {n} points at sentences that do not exist"
        first, last = sentences[c.first], sentences[c.last]
        if not (first.source == last.source == c.source and c.start == first.start and c.end == last.end):
            return f"chunk {n} does not match its sentences"
    for s in sentences:
        for c in s.chunks:
            if not chunks[c].first <= s.id <= chunks[c].last:
                return f"sentence {s.id} names chunk {c}, which does not hold it"
    return None


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ---------------------------------------------------------------- swapping

def swap_in(new: Path, target: Path) -> None:
    """Make `new` the folder at `target` in one atomic step; the old folder is removed after.

    Without renameat2 there is a moment with no folder at `target`; the old one then waits at
    `.<name>.old-*`, and `restore_interrupted_swap` puts it back if the process dies in that moment.
    """
    if not target.exists():
        new.rename(target)
    elif _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)     # `new` now holds the old index
    else:
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    try:
        _fsync(target.parent)      # make the rename itself durable
    except OSError:
        pass


def restore_interrupted_swap(target: Path) -> bool:
    """Put the old index back if a swap without renameat2 was killed between its two renames."""
    if target.exists() or target.is_symlink():
        return False
    for old in sorted(target.parent.glob(f".{glob.escape(target.name)}.old-*")):
        if (old / MANIFEST).is_file():
            old.rename(target)
            return True
    return False


def _exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE): swap two paths atomically (Linux)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange)
    return rc == 0


def new_build_id() -> str:
    return uuid.uuid4().hex


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def elapsed(since: float) -> float:
    return round(time.perf_counter() - since, 3)
