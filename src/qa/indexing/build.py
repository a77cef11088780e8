"""Turn source files into an index folder, safely: lock, write beside, swap in."""
from __future__ import annotations

import fcntl
import glob
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..reading import chunking, entities
from . import embedder
from ..config import PROJECT_ROOT, ChunkSettings, settings_record
from ..reading.documents import (DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, Document, SourceError, find_sources,
                        is_furniture, os_reason, read_document)
from .store import (INDEX_ENTRIES, SOURCES, IndexError_, check_manifest, elapsed, load_index,
                          new_build_id, normalise, now_iso, read_manifest, restore_interrupted_swap, swap_in,
                          write_index)
from ..reading.sentences import split_sentences
from ..types import Chunk, Sentence

EMBED_GROUP = 256          # sentences annotated and embedded per call; the progress bar advances after each


class BuildError(RuntimeError):
    """A build that cannot go ahead; the message says why."""


@dataclass
class BuildReport:
    index: Path
    manifest: dict
    skipped: list = field(default_factory=list)      # (path, reason)
    reused: list = field(default_factory=list)       # sources taken over from the previous index
    unchanged: bool = False
    indexed: list = field(default_factory=list)      # sources split, annotated and embedded by this build
    removed: list = field(default_factory=list)      # sources the previous index held and this one does not


@dataclass
class _Part:
    """One document's sentences, chunks and vectors, with ids local to the document."""
    doc: dict
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray


@dataclass
class _Prepared:
    """One document split into sentences and packed into chunks, not yet annotated or embedded."""
    doc: Document
    spans: list[tuple[int, int]]
    texts: list[str]                    # each sentence with its whitespace normalised
    tokens: list[int]
    ranges: list[tuple[int, int]]       # (first, last) sentence of each chunk


@contextmanager
def build_lock(target: Path):
    """One build at a time per index folder."""
    lock_path = target.with_name(f".{target.name}.lock")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a+")
    except OSError as exc:
        if parent.exists() and not parent.is_dir():
            raise BuildError(f"cannot create the index {target}: {parent} is a file, not a folder") from None
        raise BuildError(f"cannot write in {parent} (a build writes its lock and the new index there, "
                         f"beside {target.name}): {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build of {target} is running; try again when it ends") from None
        yield
    finally:
        fh.close()


def build(paths: list[Path], target: Path, settings: ChunkSettings | None = None, force: bool = False,
          root: Path = PROJECT_ROOT, log=None, progress: bool = False, max_bytes: int | None = DEFAULT_MAX_BYTES,
          hnsw_threshold: int | None = None, runner=None) -> BuildReport:
    """Index the files and folders in `paths` into `target`.

    Sources whose SHA-256 (and, for HTML, extracted text) match the current index are taken over from it;
    with nothing changed the index is left as it is. `progress` shows a bar on stderr; `max_bytes` refuses
    larger files (None: no limit); `hnsw_threshold` overrides store.HNSW_THRESHOLD. `runner` does the
    per-document work (splitting, annotation, embedding) of the new and changed documents: this process
    (LocalRunner, the default) or a Ray cluster (qa.indexing.ray_build.RayRunner); the index is the same.
    """
    settings = settings or ChunkSettings()
    log = log or (lambda msg: None)
    started = time.perf_counter()
    target = _resolve_target(Path(target))
    paths = [Path(p) for p in paths]
    docs, skipped = read_sources(paths, root, max_bytes)
    if not docs:
        raise BuildError(_nothing_readable(paths, skipped))
    _check_target(target)

    with build_lock(target):
        restore_interrupted_swap(target)
        _remove_leftovers(target)
        held_before = indexed_sources(target)
        if not force:
            manifest = _up_to_date(target, docs, settings)
            if manifest is not None:
                return BuildReport(target, manifest, skipped, [d.source for d in docs], unchanged=True)
        previous = {} if force else _previous_parts(target, settings)
        reused = {d.source: previous[d.source] for d in docs
                  if d.source in previous and _same_content(previous[d.source].doc, d)}
        runner = runner or LocalRunner()
        todo = [doc for doc in docs if doc.source not in reused]
        prepared = []
        for doc, result in zip(todo, runner.prepare(todo, settings) if todo else []):
            if isinstance(result, SourceError):
                skipped.append((doc.path, str(result)))
            else:
                prepared.append(result)
        fresh = _embed_all(prepared, log, progress, runner)
        kept = [d for d in docs if d.source in reused or d.source in fresh]
        if not kept:
            raise BuildError(_nothing_readable(paths, skipped))
        parts = [_with_info(reused.get(d.source) or fresh[d.source], d) for d in kept]
        manifest = _manifest(parts, settings, started)
        sentences, chunks, sv, cv = _concatenate(parts)
        texts = {_stored_text_name(d): d.text for d in kept if d.offsets != "file"}
        staging = target.with_name(f".{target.name}.build-{os.getpid()}-{new_build_id()[:8]}")
        try:
            manifest = write_index(staging, manifest, sentences, chunks, cv, sv, texts=texts,
                                   hnsw_threshold=hnsw_threshold)
            swap_in(staging, target)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, Exception):
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
                    (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                raise BuildError(f"cannot write the index to {target}: {reason}; "
                                 "the previous index is unchanged") from None
            raise
    manifest["build_seconds"] = elapsed(started)
    kept_sources = {d.source for d in kept}
    return BuildReport(target, manifest, skipped, [d.source for d in kept if d.source in reused],
                       indexed=[p.doc.source for p in prepared if p.doc.source in fresh],
                       removed=[s for s in held_before if s not in kept_sources])


def indexed_sources(target: Path) -> list[str]:
    """The "source" of each document the index at `target` holds (none when there is no readable index)."""
    try:
        return [s["source"] for s in read_manifest(Path(target)).get("sources", []) if "source" in s]
    except (IndexError_, OSError, ValueError, TypeError, KeyError):
        return []


def source_path(source: str, root: Path = PROJECT_ROOT) -> Path:
    """The file a manifest "source" names: relative to `root`, or absolute."""
    path = Path(source)
    return path if path.is_absolute() else root / path


def read_sources(paths: list[Path], root: Path = PROJECT_ROOT,
                 max_bytes: int | None = DEFAULT_MAX_BYTES) -> tuple[list[Document], list[tuple[Path, str]]]:
    """Every readable document under `paths`, and (path, reason) for each file skipped."""
    files, skipped = find_sources(paths)
    docs: list[Document] = []
    for path in files:
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:      # its name could not be recorded in the manifest (JSON is UTF-8)
            skipped.append((path, "its file name is not valid UTF-8; rename it"))
            continue
        try:
            docs.append(read_document(path, root, max_bytes))
        except SourceError as exc:
            skipped.append((path, str(exc)))
        except OSError as exc:
            skipped.append((path, os_reason(exc)))
    return docs, skipped


def _nothing_readable(paths: list[Path], skipped: list[tuple[Path, str]]) -> str:
    where = ", ".join(str(p) for p in paths)
    if not skipped:
        return f"no readable text in {where} (no .txt, .md or .html files)"
    if len(skipped) == 1 and len(paths) == 1 and os.path.abspath(skipped[0][0]) == os.path.abspath(paths[0]):
        return f"no readable text in {where}: {skipped[0][1]}"
    # files meant as text first: why they failed says more than a list of images
    skipped = sorted(skipped, key=lambda item: item[0].suffix.lower() not in SUPPORTED_SUFFIXES)
    shown = "; ".join(f"{p}: {reason}" for p, reason in skipped[:4])
    more = f"; and {len(skipped) - 4} more" if len(skipped) > 4 else ""
    return f"no readable text in {where} (skipped {shown}{more})"


def _resolve_target(target: Path) -> Path:
    """An index path that is a symlink is built where it points, so the link itself stays."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _check_target(target: Path) -> None:
    """Refuse to replace anything but an index folder (or an empty one): a rebuild removes what was there."""
    if not target.exists():
        return
    if not target.is_dir():
        raise BuildError(f"{target} exists and is not a folder; choose another --index")
    try:
        foreign = sorted(p.name for p in target.iterdir() if p.name not in INDEX_ENTRIES)
    except OSError as exc:
        raise BuildError(f"cannot read {target}: {exc.strerror or exc}") from None
    if foreign:
        raise BuildError(f"{target} is not an index folder (it holds {foreign[0]!r}"
                         f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); "
                         "choose another --index or empty it")


def _remove_leftovers(target: Path) -> None:
    """Staging folders of builds that were killed before they could clean up."""
    for kind in ("build", "old"):
        for stale in target.parent.glob(f".{glob.escape(target.name)}.{kind}-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _same_content(info: dict, doc: Document) -> bool:
    """The recorded source is this document: same bytes and, for extracted text, the same extraction."""
    if info.get("sha256") != doc.sha256 or info.get("offsets", "file") != doc.offsets:
        return False
    return doc.offsets == "file" or info.get("text_sha256") == doc.text_sha256


def _up_to_date(target: Path, docs: list[Document], settings: ChunkSettings) -> dict | None:
    """The current manifest if the index holds exactly these documents, unchanged, and loads."""
    try:
        manifest = read_manifest(target)
        check_manifest(manifest)
    except IndexError_:
        return None
    if manifest.get("chunking") != settings_record(settings)["chunking"]:
        return None
    recorded = {s.get("source"): s for s in manifest.get("sources", [])}
    if set(recorded) != {d.source for d in docs} or len(recorded) != len(docs):
        return None
    if not all(_same_content(recorded[d.source], d) for d in docs):
        return None
    try:
        return load_index(target).manifest
    except IndexError_:
        return None


class LocalRunner:
    """The per-document work of a build, in this process. A runner (see build()) has the same two methods."""

    def prepare(self, docs: list[Document], settings: ChunkSettings) -> list[_Prepared | SourceError]:
        """Each document split and packed (_prepare), or the SourceError that skips it; in order."""
        return [prepare_or_error(doc, settings) for doc in docs]

    def annotate_embed(self, groups):
        """For each (sentences, texts) group, in order: the sentences' entity spans and the texts' vectors."""
        for sentences, texts in groups:
            yield annotate_embed(sentences, texts)


def prepare_or_error(doc: Document, settings: ChunkSettings) -> _Prepared | SourceError:
    try:
        return _prepare(doc, settings)
    except SourceError as exc:
        return exc


def annotate_embed(sentences: list[str], texts: list[str]) -> tuple[list[list], np.ndarray]:
    """One group's work: entity spans of each sentence (as stored), and unit vectors of `texts`.

    Identical sentences (and texts) are annotated and embedded once: 50,000 one-word paragraphs took 156 s
    one by one. A group without repeats is the very same call as before, so its vectors are unchanged."""
    unique_sentences = list(dict.fromkeys(sentences))
    spans = entities.annotate(unique_sentences)
    if len(unique_sentences) < len(sentences):
        found = dict(zip(unique_sentences, spans))
        spans = [[list(span) for span in found[s]] for s in sentences]
    unique_texts = list(dict.fromkeys(texts))
    vectors = embedder.embed_texts(unique_texts)
    if len(unique_texts) < len(texts):
        row = {text: n for n, text in enumerate(unique_texts)}
        vectors = vectors[[row[t] for t in texts]]
    return spans, vectors


def _prepare(doc: Document, settings: ChunkSettings) -> _Prepared:
    """Sentences (furniture dropped, over-long ones cut) and the chunks they pack into."""
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
    if not spans:
        raise SourceError("no sentences (only page furniture)")
    ranges = _fit_window(chunking.pack_chunks(tokens, settings), texts)
    return _Prepared(doc, spans, texts, tokens, ranges)


def _embed_all(prepared: list[_Prepared], log, progress: bool, runner=None) -> dict[str, _Part]:
    """Annotate and embed the documents' sentences and chunks, EMBED_GROUP sentences at a time.

    Groups run across document boundaries: for a folder of small files, one call per file left the
    embedder's batches half empty and took twice as long. The runner does each group's work (the same
    groups whichever runner, so the same batches) and gives the results back in order.
    """
    parts = [_skeleton(p) for p in prepared]
    offsets = np.cumsum([0] + [len(p.sentences) for p in parts]).tolist()
    sentences = [s for p in parts for s in p.sentences]
    texts = [t for p in prepared for t in p.texts]
    chunk_texts, chunk_ends = [], []      # chunk ends: global index of each chunk's last sentence
    for n, (prep, part) in enumerate(zip(prepared, parts)):
        chunk_texts.extend(" ".join(prep.texts[c.first:c.last + 1]) for c in part.chunks)
        chunk_ends.extend(offsets[n] + c.last for c in part.chunks)
    groups, c0 = [], 0          # (first sentence, end sentence, first chunk, end chunk)
    for g0 in range(0, len(sentences), EMBED_GROUP):
        g1 = min(len(sentences), g0 + EMBED_GROUP)
        c1 = c0
        while c1 < len(chunk_ends) and (chunk_ends[c1] < g1 or g1 == len(sentences)):
            c1 += 1
        groups.append((g0, g1, c0, c1))
        c0 = c1
    results = iter((runner or LocalRunner()).annotate_embed(
        ([s.text for s in sentences[g0:g1]], texts[g0:g1] + chunk_texts[c0:c1]) for g0, g1, c0, c1 in groups))
    bar = _Progress(progress, len(prepared), len(sentences))
    sentence_vectors, chunk_vectors = [], []
    started = 0
    try:
        for g0, g1, c0, c1 in groups:
            while started < len(prepared) and offsets[started] < g1:
                log(f"indexing {prepared[started].doc.source}")
                started += 1
            bar.document(started)
            spans, vectors = next(results)
            for sentence, found in zip(sentences[g0:g1], spans):
                sentence.entities = found
            sentence_vectors.append(vectors[:g1 - g0])
            chunk_vectors.append(vectors[g1 - g0:])
            bar.update(g1 - g0)
    finally:
        bar.close()
        close = getattr(results, "close", None)
        if close is not None:
            close()
    if not parts:
        return {}
    sv, cv = np.concatenate(sentence_vectors), np.concatenate(chunk_vectors)
    chunk_offsets = np.cumsum([0] + [len(p.chunks) for p in parts]).tolist()
    for n, part in enumerate(parts):
        part.sentence_vectors = sv[offsets[n]:offsets[n + 1]]
        part.chunk_vectors = cv[chunk_offsets[n]:chunk_offsets[n + 1]]
    return {part.doc["source"]: part for part in parts}


def _skeleton(prep: _Prepared) -> _Part:
    """A document's sentences and chunks, linked to each other, before annotation and vectors."""
    doc = prep.doc
    sentences = [Sentence(i, doc.source, s, e, doc.text[s:e]) for i, (s, e) in enumerate(prep.spans)]
    chunks = []
    for cid, (first, last) in enumerate(prep.ranges):
        chunks.append(Chunk(cid, doc.source, first, last, prep.spans[first][0], prep.spans[last][1],
                            sum(prep.tokens[first:last + 1])))
        for i in range(first, last + 1):
            sentences[i].chunks.append(cid)
    empty = np.zeros((0, 0), dtype=np.float32)
    return _Part({"source": doc.source}, sentences, chunks, empty, empty)


class _Progress:
    """Documents and sentences embedded, with rate, as a tqdm bar on stderr (or nothing)."""

    def __init__(self, enabled: bool, documents: int, sentences: int):
        self.documents = documents
        self.bar = None
        if enabled and sentences:
            from tqdm import tqdm
            try:
                size = os.get_terminal_size(sys.stderr.fileno())
            except (AttributeError, ValueError, OSError):
                size = os.terminal_size((0, 0))
            # tqdm hides its bar on a terminal that reports no size (some pseudo-terminals do): assume one
            sized = size.columns > 0 and size.lines > 0
            self.bar = tqdm(total=sentences, file=sys.stderr, unit=" sentences", dynamic_ncols=sized,
                            ncols=None if sized else 100, nrows=None if sized else 24,
                            bar_format="{desc} |{bar}| {n_fmt}/{total_fmt} sentences "
                                       "[{elapsed}<{remaining}, {rate_fmt}]")

    def document(self, n: int) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"embedding document {n}/{self.documents}")

    def update(self, sentences: int) -> None:
        if self.bar is not None:
            self.bar.update(sentences)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _fit_window(ranges: list[tuple[int, int]], texts: list[str], batch: int = 1024) -> list[tuple[int, int]]:
    """Split any chunk that would overflow the embedder's own window."""
    window = embedder.window_tokens() - 2
    out = []
    for i in range(0, len(ranges), batch):
        some = ranges[i:i + batch]
        pieces = embedder.count_wordpieces([" ".join(texts[a:b + 1]) for a, b in some])
        for (first, last), n in zip(some, pieces):
            if n <= window or first == last:
                out.append((first, last))
            else:
                mid = (first + last) // 2
                out.extend(_fit_window([(first, mid), (mid + 1, last)], texts))
    return out


def _previous_parts(target: Path, settings: ChunkSettings) -> dict[str, _Part]:
    """Per-source parts of the current index, when it was built with the same settings.

    Sentences and chunks are grouped by source in one pass: matching every source against every sentence
    made adding one file to an index of 10,000 sources take 34 s of this alone.
    """
    try:
        index = load_index(target)
    except IndexError_:
        return {}
    if index.manifest.get("chunking") != settings_record(settings)["chunking"]:
        return {}
    chunk_vectors = index.chunk_vectors.reconstruct_n(0, index.chunk_vectors.ntotal)
    by_source: dict[str, tuple[list[Sentence], list[Chunk]]] = {doc["source"]: ([], [])
                                                                for doc in index.manifest["sources"]}
    for s in index.sentences:
        if s.source in by_source:
            by_source[s.source][0].append(s)
    for c in index.chunks:
        if c.source in by_source:
            by_source[c.source][1].append(c)
    parts = {}
    for doc in index.manifest["sources"]:
        sents, chs = by_source[doc["source"]]
        if not sents or not chs:
            continue
        s0, c0 = sents[0].id, chs[0].id
        if sents[-1].id - s0 != len(sents) - 1 or chs[-1].id - c0 != len(chs) - 1:
            continue        # not one run of ids (never written so): embed the source again
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


def _stored_text_name(doc: Document) -> str:
    return f"{SOURCES}/{doc.text_sha256}.txt"


def _with_info(part: _Part, doc: Document) -> _Part:
    """The part with its manifest entry written afresh from the document as read now."""
    info = {"source": doc.source, "sha256": doc.sha256, "bytes": doc.size, "chars": len(doc.text),
            "encoding": doc.encoding, "offsets": doc.offsets, "sentences": len(part.sentences),
            "chunks": len(part.chunks)}
    if doc.offsets != "file":
        info.update(text=_stored_text_name(doc), text_sha256=doc.text_sha256)
    if doc.format:      # PDF, DOCX: no encoding (not text); where pages and headings start in the text
        del info["encoding"]
        info["format"] = doc.format
        info.update({k: v for k, v in (("pages", doc.pages), ("headings", doc.headings)) if v})
    return _Part(info, part.sentences, part.chunks, part.sentence_vectors, part.chunk_vectors)


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
