"""Turn source files into an index folder, safely: lock, write beside, swap in."""
from __future__ import annotations

import fcntl
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import chunking, embedder, entities
from .config import PROJECT_ROOT, ChunkSettings, settings_record
from .documents import Document, SourceError, find_sources, is_furniture, read_document
from .index_store import (IndexError_, elapsed, load_index, new_build_id, normalise, now_iso, swap_in,
                          write_index)
from .sentences import split_sentences
from .types import Chunk, Sentence


class BuildError(RuntimeError):
    """A build that cannot go ahead; the message says why."""


@dataclass
class BuildReport:
    index: Path
    manifest: dict
    skipped: list = field(default_factory=list)      # (path, reason)
    reused: list = field(default_factory=list)       # sources taken over from the previous index
    unchanged: bool = False


@dataclass
class _Part:
    """One document's sentences, chunks and vectors, with ids local to the document."""
    doc: dict
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray


@contextmanager
def build_lock(target: Path):
    """One build at a time per index folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(f".{target.name}.lock")
    try:
        fh = open(lock_path, "a+")
    except OSError as exc:
        raise BuildError(f"cannot write beside {target}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build of {target} is running; try again when it ends") from None
        yield
    finally:
        fh.close()


def build(paths: list[Path], target: Path, settings: ChunkSettings | None = None, force: bool = False,
          root: Path = PROJECT_ROOT, log=None) -> BuildReport:
    """Index the files and folders in `paths` into `target`."""
    settings = settings or ChunkSettings()
    log = log or (lambda msg: None)
    started = time.perf_counter()
    files, skipped = find_sources(paths)
    docs: list[Document] = []
    for path in files:
        try:
            docs.append(read_document(path, root))
        except SourceError as exc:
            skipped.append((path, str(exc)))
        except OSError as exc:
            skipped.append((path, exc.strerror or str(exc)))
    if not docs:
        raise BuildError("no readable text in " + ", ".join(str(p) for p in paths))

    with build_lock(target):
        _remove_leftovers(target)
        previous = _previous_parts(target, settings) if not force else {}
        same = [d for d in docs if d.source in previous and previous[d.source].doc["sha256"] == d.sha256]
        if not force and len(same) == len(docs) == len(previous) and (target / "manifest.json").exists():
            manifest = load_index(target).manifest
            return BuildReport(target, manifest, skipped, [d.source for d in docs], unchanged=True)
        parts = [previous[d.source] if d in same else _index_document(d, settings, log) for d in docs]
        manifest = _manifest(parts, settings, started)
        sentences, chunks, sv, cv = _concatenate(parts)
        staging = target.with_name(f".{target.name}.build-{os.getpid()}-{new_build_id()[:8]}")
        try:
            write_index(staging, manifest, sentences, chunks, cv, sv)
            swap_in(staging, target)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildError(f"cannot write the index to {target}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    manifest["build_seconds"] = elapsed(started)
    return BuildReport(target, manifest, skipped, [d.source for d in same])


def _remove_leftovers(target: Path) -> None:
    """Staging folders of builds that were killed before they could clean up."""
    for stale in target.parent.glob(f".{target.name}.build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in target.parent.glob(f".{target.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _index_document(doc: Document, settings: ChunkSettings, log) -> _Part:
    log(f"indexing {doc.source}")
    spans = []
    for start, end in split_sentences(doc.text):
        if is_furniture(doc.text[start:end]):
            continue
        spans.extend(chunking.split_long_span(doc.text, start, end, settings.max_tokens)
                     if end - start > settings.max_tokens * 2 else [(start, end)])
    # pieces of an over-long sentence may still be over budget in tokens; cut them again
    texts = [normalise(doc.text[s:e]) for s, e in spans]
    tokens = chunking.count_tokens(texts)
    fixed: list[tuple[int, int]] = []
    for (s, e), n in zip(spans, tokens):
        fixed.extend(chunking.split_long_span(doc.text, s, e, settings.max_tokens) if n > settings.max_tokens else [(s, e)])
    if len(fixed) != len(spans):
        spans = fixed
        texts = [normalise(doc.text[s:e]) for s, e in spans]
        tokens = chunking.count_tokens(texts)
    sentences = [Sentence(i, doc.source, s, e, doc.text[s:e]) for i, (s, e) in enumerate(spans)]
    if not sentences:
        raise BuildError(f"{doc.source}: no sentences found")
    ranges = _fit_window(chunking.pack_chunks(tokens, settings), texts)
    chunks = []
    for cid, (first, last) in enumerate(ranges):
        chunks.append(Chunk(cid, doc.source, first, last, spans[first][0], spans[last][1],
                            sum(tokens[first:last + 1])))
        for i in range(first, last + 1):
            sentences[i].chunks.append(cid)
    for sentence, spans_ in zip(sentences, entities.annotate([s.text for s in sentences])):
        sentence.entities = spans_
    chunk_texts = [" ".join(texts[c.first:c.last + 1]) for c in chunks]
    vectors = embedder.embed_texts(texts + chunk_texts)
    info = {"source": doc.source, "sha256": doc.sha256, "bytes": doc.size, "chars": len(doc.text),
            "encoding": doc.encoding, "sentences": len(sentences), "chunks": len(chunks)}
    return _Part(info, sentences, chunks, vectors[: len(texts)], vectors[len(texts):])


def _fit_window(ranges: list[tuple[int, int]], texts: list[str]) -> list[tuple[int, int]]:
    """Split any chunk that would overflow the embedder's own window."""
    window = embedder.window_tokens() - 2
    out = []
    pieces = embedder.count_wordpieces([" ".join(texts[a:b + 1]) for a, b in ranges])
    for (first, last), n in zip(ranges, pieces):
        if n <= window or first == last:
            out.append((first, last))
        else:
            mid = (first + last) // 2
            out.extend(_fit_window([(first, mid), (mid + 1, last)], texts))
    return out


def _previous_parts(target: Path, settings: ChunkSettings) -> dict[str, _Part]:
    """Per-source parts of the current index, when it was built with the same settings."""
    try:
        index = load_index(target)
    except IndexError_:
        return {}
    if index.manifest.get("chunking") != settings_record(settings)["chunking"]:
        return {}
    chunk_vectors = index.chunk_vectors.reconstruct_n(0, index.chunk_vectors.ntotal)
    parts = {}
    for doc in index.manifest["sources"]:
        sents = [s for s in index.sentences if s.source == doc["source"]]
        chs = [c for c in index.chunks if c.source == doc["source"]]
        if not sents:
            continue
        s0, c0 = sents[0].id, chs[0].id
        for s in sents:
            s.id -= s0
            s.chunks = [c - c0 for c in s.chunks]
        for c in chs:
            c.id -= c0
            c.first -= s0
            c.last -= s0
        parts[doc["source"]] = _Part(doc, sents, chs, index.sentence_vectors[s0:s0 + len(sents)],
                                     chunk_vectors[c0:c0 + len(chs)])
    return parts


def _concatenate(parts: list[_Part]):
    sentences, chunks = [], []
    for part in parts:
        s0, c0 = len(sentences), len(chunks)
        for s in part.sentences:
            sentences.append(Sentence(s.id + s0, s.source, s.start, s.end, s.text, s.entities,
                                      [c + c0 for c in s.chunks]))
        for c in part.chunks:
            chunks.append(Chunk(c.id + c0, c.source, c.first + s0, c.last + s0, c.start, c.end, c.tokens))
    sv = np.concatenate([p.sentence_vectors for p in parts]) if parts else np.zeros((0, 384), np.float32)
    cv = np.concatenate([p.chunk_vectors for p in parts]) if parts else np.zeros((0, 384), np.float32)
    return sentences, chunks, sv, cv


def _manifest(parts: list[_Part], settings: ChunkSettings, started: float) -> dict:
    return {
        **settings_record(settings),
        "build_id": new_build_id(),
        "built_at": now_iso(),
        "build_seconds": elapsed(started),
        "python": sys.version.split()[0],
        "sources": [p.doc for p in parts],
        "counts": {"sources": len(parts), "sentences": sum(len(p.sentences) for p in parts),
                   "chunks": sum(len(p.chunks) for p in parts)},
    }
