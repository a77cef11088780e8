"""Adding a document from the chat page: check the upload, save it, rebuild the index the chat serves.

An upload is checked before anything is written: its size (MAX_UPLOAD_BYTES), its type by extension
(ALLOWED_SUFFIXES) and by content (it must decode as text, `qa.reading.documents.decode`; an HTML file must have
visible text). It is saved under a sanitised name in the uploads folder: for the project's own `index/`,
`data/uploads/` (ignored by git); for another index folder, `<index>.uploads/` beside it.

The index the server was started on (the base: for `make run`, the committed `index/`) is never written.
The first rebuild copies it to the working index beside the uploads folder (`data/uploads-index/`, or
`<index>.uploads-index/`), adds the uploads there with `qa.indexing.build.build` (which re-uses unchanged
sources, takes a lock, one build per index folder across processes, and swaps the new index in
atomically) and the server answers from the working index from then on, and after a restart as long as
it was built from the base as it is now. Until the new manifest appears the IndexHolder keeps answering
from the old index; right after the build it loads the new one.

A PDF or .docx upload must give text as `qa build` reads it (`qa.reading.documents.extract_binary`).

Who may add documents: uploads are on by default only when the server is bound to a loopback address;
on any other address only with an upload token (QA_UPLOAD_TOKEN), which the panel then asks for.
QA_UPLOADS=0 (or uploads=False to create_app/serve) leaves the panel out everywhere. The uploads folder
holds at most MAX_UPLOADED_DOCUMENTS files and MAX_UPLOADED_BYTES (QA_UPLOADS_MAX_DOCUMENTS,
QA_UPLOADS_MAX_BYTES).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from ..config import DEFAULT_INDEX, PROJECT_ROOT
from ..reading.documents import BINARY_SUFFIXES, SourceError, decode, display_path, extract_binary
from .render import human_size
from .service import QAService

log = logging.getLogger("qa.web")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024          # 5 MB: indexing runs at ~10-20 KB of text a second here
ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
MAX_NAME_CHARS = 80                          # of a saved file name, extension included
UPLOADS_ENV = "QA_UPLOADS"                   # "0", "false", "no" or "off" turns uploads off
UPLOADS_DIR_ENV = "QA_UPLOADS_DIR"           # another uploads folder than data/uploads or <index>.uploads
UPLOAD_TOKEN_ENV = "QA_UPLOAD_TOKEN"         # needed to add documents (required when not bound to loopback)
PROJECT_UPLOADS = PROJECT_ROOT / "data" / "uploads"     # for the project's own index/ (ignored by git)
WORK_INDEX_SUFFIX = "-index"                 # the working index: beside the uploads folder, e.g. data/uploads-index
MAX_UPLOADED_DOCUMENTS = 20                  # files in the uploads folder (QA_UPLOADS_MAX_DOCUMENTS)
MAX_UPLOADED_BYTES = 50 * 1024 * 1024        # bytes in the uploads folder (QA_UPLOADS_MAX_BYTES)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SUFFIX_TRIES = 1000
# Indexing time: about 60 distinct sentences or 6.5-9 KB of distinct text a second on 2 cores (docs/indexing.md,
# "Size"), whichever is slower; a file of tiny sentences is slow for its size (31 KB of "A b." sentences took
# 87 s). A sentence repeated is embedded once and costs only its splitting and packing: 50,000 identical
# paragraphs took 23 s (about 2,100 a second), 50,000 identical longer ones 30 s.
MAX_BUILD_SECONDS = 600
BUILD_BYTES_PER_SECOND = 9000
BUILD_SENTENCES_PER_SECOND = 60
REPEATED_SENTENCES_PER_SECOND = 1500
# sentence ends, paragraph breaks and list items: at least as many as the splitter finds, counted cheaply
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]’”]*(?=\s|\Z)|\n[ \t]*\n|\n(?=[ \t]*(?:[-*•]|\d+[.)])\s)")
PENDING_PREFIX = ".pending-"                 # marks an upload saved for a rebuild that has not completed


class UploadError(ValueError):
    """An upload or rebuild that cannot go ahead; the message says why, in one line."""


# ---------------------------------------------------------------- settings

def uploads_enabled(value: bool | None = None) -> bool:
    """An explicit True/False wins; else QA_UPLOADS decides (on unless it says 0/false/no/off)."""
    if value is not None:
        return bool(value)
    return os.environ.get(UPLOADS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def upload_token() -> str | None:
    return os.environ.get(UPLOAD_TOKEN_ENV, "").strip() or None


def upload_policy(value: bool | None = None, host: str = "127.0.0.1") -> tuple[bool, str | None, str]:
    """(uploads on, the token they need or None, a line saying who may add documents).

    On a loopback address uploads are on unless turned off; on any other address anyone who can reach the
    page could change the index everyone is served, so they are on only with an upload token."""
    token = upload_token()
    if not uploads_enabled(value):
        return False, None, "adding documents from the chat is off (QA_UPLOADS=0)"
    if token is not None:
        return True, token, "the chat can add documents for whoever gives the upload token (QA_UPLOAD_TOKEN)"
    if host in LOOPBACK:
        return True, None, "the chat can add documents (loopback only: anyone on this machine)"
    return False, None, (f"adding documents from the chat is off: the server listens on {host}, not loopback; "
                         f"set {UPLOAD_TOKEN_ENV} to allow it for whoever has that token")


def default_uploads_dir(index_dir: Path | str) -> Path:
    """QA_UPLOADS_DIR; else data/uploads for the project's own index/; else `<index>.uploads` beside it."""
    configured = os.environ.get(UPLOADS_DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    index_dir = Path(os.path.abspath(index_dir))
    if index_dir == Path(os.path.abspath(DEFAULT_INDEX)):
        return PROJECT_UPLOADS
    return index_dir.with_name(f"{index_dir.name}.uploads")


def work_index_dir(uploads_dir: Path | str) -> Path:
    """The index the chat builds and serves once documents are added: beside the uploads folder."""
    uploads_dir = Path(os.path.abspath(uploads_dir))
    return uploads_dir.with_name(f"{uploads_dir.name}{WORK_INDEX_SUFFIX}")


def _env_size(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


# ---------------------------------------------------------------- checks (pure functions)

def sanitise_name(name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """A safe file name for an uploaded file: its base name only, [A-Za-z0-9._-], no leading dot or dash.

    Accents are folded to ASCII ("Résumé" -> "Resume"), every other run of unsafe characters becomes one
    "_", the extension is lower-cased, and the name is cut to `max_chars` keeping its extension.
    """
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = _UNSAFE.sub("", suffix).lower()
    stem = _UNSAFE.sub("_", stem)
    stem = re.sub(r"\.{2,}", ".", stem).lstrip("._-").rstrip("._-") or "upload"
    suffix = f".{suffix[:10]}" if suffix else ""
    stem = stem[:max(1, max_chars - len(suffix))].rstrip("._-") or "upload"
    return stem + suffix


def check_size(size: int, name: str, limit: int = MAX_UPLOAD_BYTES) -> None:
    if size > limit:
        raise UploadError(f"“{name}” is too large ({human_size(size)}; the limit is {human_size(limit)})")
    if size == 0:
        raise UploadError(f"“{name}” is empty")


def check_type(name: str, data: bytes) -> str:
    """The text of an upload, or UploadError: the extension must be allowed and the bytes must be text."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "no extension"
        raise UploadError(f"“{name}” cannot be added: only {_allowed_list()} files can be (this one has {shown})")
    kind = BINARY_SUFFIXES.get(suffix)
    if kind is not None:        # PDF, .docx: read as `qa build` reads them, in the same bounds
        try:
            return extract_binary(data, kind).text
        except SourceError as exc:
            raise UploadError(f"“{name}” cannot be added: {exc}") from None
    try:
        text, _encoding = decode(data)
    except SourceError as exc:
        raise UploadError(f"“{name}” is not a text file: {exc}") from None
    if suffix in (".html", ".htm"):
        from ..reading.html import html_to_text

        text = html_to_text(text)
        if not text.strip():
            raise UploadError(f"“{name}” has no visible text (only markup, scripts or styles)")
    elif not text.strip():
        raise UploadError(f"“{name}” has no text (only whitespace)")
    return text


def estimate_build_seconds(text: str, size: int | None = None) -> tuple[float, int]:
    """(seconds to index `text`, sentences counted): the slower of its distinct text's bytes and its distinct
    sentences, plus a little for each repeated sentence (a build embeds identical sentences once).

    `size` (the file's bytes, markup included) is no longer needed: only the text's distinct sentences count."""
    pieces = [piece.strip() for piece in _SENTENCE_END.split(text)]
    pieces = [piece for piece in pieces if piece] or [""]
    distinct = set(pieces)
    distinct_bytes = sum(len(piece.encode("utf-8", "replace")) for piece in distinct)
    seconds = max(distinct_bytes / BUILD_BYTES_PER_SECOND, len(distinct) / BUILD_SENTENCES_PER_SECOND)
    return seconds + (len(pieces) - len(distinct)) / REPEATED_SENTENCES_PER_SECOND, len(pieces)


def check_build_time(name: str, text: str, size: int, limit: float = MAX_BUILD_SECONDS) -> None:
    seconds, sentences = estimate_build_seconds(text, size)
    if seconds > limit:
        raise UploadError(f"“{name}” would take about {_duration(seconds)} to index ({human_size(size)}, about "
                          f"{sentences:,} sentences); the chat takes files that index in under "
                          f"{_duration(limit)}: split it, or add it with `qa build`")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def read_upload(path: Path | str, name: str | None = None,
                limit: int = MAX_UPLOAD_BYTES) -> tuple[str, bytes, str]:
    """Check an uploaded file: (its name, its bytes, its text); UploadError says what is wrong.

    The size is checked before the file is read; `name` (default: the file's own) is what messages show.
    """
    path = Path(path)
    name = re.split(r"[\\/]", str(name or path.name))[-1] or "the file"
    try:
        check_size(path.stat().st_size, name, limit)
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)       # never more than the limit, even if the file grew meanwhile
    except OSError as exc:
        raise UploadError(f"cannot read the uploaded file “{name}”: {exc.strerror or exc}") from None
    check_size(len(data), name, limit)
    text = check_type(name, data)
    binary = PurePath(name).suffix.lower() in BINARY_SUFFIXES      # a PDF's size says little of its text's
    check_build_time(name, text, len(text.encode("utf-8", "replace")) if binary else len(data))
    return name, data, text


def save_upload(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Save `data` in `folder` under the sanitised `name`: (path, created).

    The same bytes already saved under that name are re-used (created False); a different file of that
    name is never overwritten: "-2", "-3", ... is added to the new one's name. The file appears whole
    (written under a hidden temporary name, then linked into place) so a build never reads half of it.
    """
    safe = sanitise_name(name)
    stem, suffix = os.path.splitext(safe)
    if suffix not in ALLOWED_SUFFIXES:     # check_type passed the original name; the safe one must agree
        raise UploadError(f"“{name}” cannot be added: only {_allowed_list()} files can be")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{safe}.{uuid.uuid4().hex[:8]}.part"
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            digest = hashlib.sha256(data).hexdigest()
            for n in range(1, _MAX_SUFFIX_TRIES + 1):
                candidate = folder / (safe if n == 1 else _numbered(stem, suffix, n))
                if candidate.is_file() and _sha256(candidate) == digest:
                    return candidate, False
                try:
                    os.link(tmp, candidate)        # fails if the name is taken: never overwrites
                except FileExistsError:
                    continue
                return candidate, True
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise UploadError(f"cannot save the upload in {folder}: {exc.strerror or exc}") from None
    raise UploadError(f"cannot save “{safe}”: too many files of that name in {folder}")


def _numbered(stem: str, suffix: str, n: int) -> str:
    tail = f"-{n}"
    return stem[:MAX_NAME_CHARS - len(suffix) - len(tail)] + tail + suffix


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _allowed_list() -> str:
    return ", ".join(ALLOWED_SUFFIXES[:-1]) + " and " + ALLOWED_SUFFIXES[-1]


def source_paths(manifest: dict, root: Path = PROJECT_ROOT) -> list[Path]:
    """The files an index was built from: manifest "source" entries, relative to `root` or absolute."""
    paths = []
    for entry in manifest.get("sources", []):
        source = Path(entry["source"])
        paths.append(source if source.is_absolute() else root / source)
    return paths


# ---------------------------------------------------------------- the rebuild

@dataclass
class RebuildResult:
    message: str
    added: str | None = None             # the source name of the added document, as the index records it
    changed: bool = True                 # False when the index was already up to date
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


class Uploads:
    """Uploads and rebuilds for one server: one rebuild at a time, questions answered meanwhile."""

    def __init__(self, service: QAService, folder: Path | str | None = None, root: Path = PROJECT_ROOT,
                 limit: int = MAX_UPLOAD_BYTES, token: str | None = None, max_documents: int | None = None,
                 max_bytes: int | None = None):
        self.service = service
        self.base = Path(service.holder.folder)          # the index the server was started on: never written
        self.folder = Path(os.path.abspath(folder)) if folder else default_uploads_dir(self.base)
        self.work = work_index_dir(self.folder)
        self.root = root
        self.limit = limit
        self.token = token
        self.max_documents = (_env_size("QA_UPLOADS_MAX_DOCUMENTS", MAX_UPLOADED_DOCUMENTS)
                              if max_documents is None else max_documents)
        self.max_bytes = _env_size("QA_UPLOADS_MAX_BYTES", MAX_UPLOADED_BYTES) if max_bytes is None else max_bytes
        self._lock = threading.Lock()
        try:
            if self._work_is_current(service.holder.get().manifest):
                self._serve(self.work)                   # documents added before the restart
            self.drop_unconfirmed(service.holder.get().manifest)    # left by a rebuild killed midway
        except Exception:       # no index yet, or unreadable: the next rebuild cleans up instead
            pass

    def _serve(self, folder: Path) -> None:
        serve = getattr(self.service.holder, "serve", None)
        if serve is not None:
            serve(folder)

    def _work_is_current(self, base_manifest: dict) -> bool:
        """The working index exists and was built from the base's documents as they are now."""
        from ..indexing.store import read_manifest

        if not (self.work / "manifest.json").is_file():
            return False
        try:
            work = read_manifest(self.work)
        except Exception:
            return False
        held = {(s.get("source"), s.get("sha256")) for s in work.get("sources", [])}
        return all((s.get("source"), s.get("sha256")) in held for s in base_manifest.get("sources", []))

    def check_token(self, given) -> None:
        """UploadError unless this server needs no token or `given` is it."""
        if self.token is None:
            return
        given = given if isinstance(given, str) else ""
        if not hmac.compare_digest(given.strip().encode("utf-8", "replace"), self.token.encode("utf-8", "replace")):
            raise UploadError("the upload token is missing or wrong: adding documents to this server needs the "
                              "token it was started with")

    def check_room(self, size: int) -> None:
        """UploadError when the uploads folder already holds max_documents files or adding `size` bytes would
        take it over max_bytes."""
        files = []
        try:
            files = [p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        except OSError:
            pass
        held = sum(p.stat().st_size for p in files)
        if len(files) >= self.max_documents:
            raise UploadError(f"the chat has added {plural(len(files), 'document')} already (the limit is "
                              f"{self.max_documents}); remove one from {self.folder} to add another")
        if held + size > self.max_bytes:
            raise UploadError(f"the added documents would take {human_size(held + size)} (the limit is "
                              f"{human_size(self.max_bytes)}); remove one from {self.folder} to add this one")

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def check(self, path: Path | str, name: str | None = None) -> str:
        """A one-line description of an acceptable upload, or UploadError."""
        name, data, text = read_upload(path, name, self.limit)
        return f"“{name}”: {human_size(len(data))}, {len(text.split()):,} words of text"

    def rebuild(self, upload: Path | str | None = None, name: str | None = None, token=None) -> RebuildResult:
        """Save the upload (if any) and rebuild the working index from the served sources plus the uploads
        folder; the server then answers from it."""
        self.check_token(token)
        if not self._lock.acquire(blocking=False):
            raise UploadError("a rebuild is already running; try again when it ends")
        try:
            return self._rebuild(upload, name)
        finally:
            self._lock.release()

    def _rebuild(self, upload, name) -> RebuildResult:
        from ..indexing.build import BuildError, build
        from ..indexing.store import IndexError_

        started = time.perf_counter()
        holder = self.service.holder
        try:
            index = holder.get()    # the newest index on disk (a rebuild done elsewhere is picked up here)
        except IndexError_ as exc:
            raise UploadError(str(exc)) from None
        sources = source_paths(index.manifest, self.root)
        # An upload deleted from the uploads folder is meant to leave the index; any other source gone
        # missing stops the rebuild, since rebuilding would silently drop it.
        sources = [p for p in sources if p.is_file() or not _inside(p, self.folder)]
        missing = [p for p in sources if not p.is_file()]
        if missing:
            shown = ", ".join(str(p) for p in missing[:3])
            shown += f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise UploadError(f"cannot rebuild: the index's source {shown} is no longer there; rebuild it "
                              "with `qa build` (the index is unchanged)")
        self.drop_unconfirmed(index.manifest)
        saved, created, marker = None, False, None
        if upload is not None:
            shown_name, data, _text = read_upload(upload, name, self.limit)
            digest = hashlib.sha256(data).hexdigest()
            same = next((s["source"] for s in index.manifest.get("sources", []) if s.get("sha256") == digest), None)
            if same is not None:       # these very bytes are indexed already (under this name or another)
                message = (f"“{shown_name}” is already in the index (as {PurePath(same).name}); "
                           f"{_holds(index.manifest)}.")
                return RebuildResult(message, same, changed=False, seconds=time.perf_counter() - started)
            # The file is staged: a marker names its bytes until a completed rebuild has indexed it, so
            # one left by a rebuild that was killed is removed, not indexed by the next rebuild unasked.
            self.check_room(len(data))
            marker = self._mark_pending(digest)
            try:
                saved, created = save_upload(self.folder, shown_name, data)
            except UploadError:
                _unlink(marker)
                raise
        paths = sources + ([self.folder] if self.folder.is_dir() else [])
        try:
            self._start_work_index(getattr(index, "folder", holder.folder))
            # No byte limit here: uploads were checked above, and a source the index already holds must
            # not be dropped because it is larger than the command line's default limit.
            report = build(paths, self.work, root=self.root, max_bytes=None)
        except (BuildError, SourceError) as exc:
            self._discard(saved, created, marker)
            raise UploadError(f"{exc}" if "unchanged" in str(exc) else f"{exc}; the index is unchanged") from None
        except Exception:
            self._discard(saved, created, marker)
            log.exception("rebuilding %s failed", self.work)
            raise UploadError("the rebuild failed (the server log has the details); the index is unchanged") from None

        added = None
        if saved is not None:
            added = _recorded_name(saved, self.root)
            recorded = {s.get("source") for s in report.manifest.get("sources", [])}
            if added not in recorded:
                reason = next((why for p, why in report.skipped if Path(p).resolve() == saved.resolve()),
                              "it has no sentences to index")
                self._discard(saved, created, marker)
                raise UploadError(f"“{saved.name}” was not added: {reason}")
        _unlink(marker)          # confirmed: the swapped-in index holds it
        self._serve(self.work)
        holder.get()            # load the new index now, so the next question does not wait for it
        warnings = [f"skipped {_recorded_name(Path(p), self.root)}: {why}" for p, why in report.skipped
                    if saved is None or Path(p).resolve() != saved.resolve()]
        seconds = time.perf_counter() - started
        holds = _holds(report.manifest)
        if report.unchanged and saved is not None and not created:
            message = f"“{saved.name}” is already in the index; {holds}."
        elif report.unchanged:
            message = f"The index is up to date; {holds}."
        elif saved is not None:
            sentences = next((s.get("sentences") for s in report.manifest.get("sources", [])
                              if s.get("source") == added), None)
            message = (f"Added “{saved.name}”" + (f" ({plural(sentences, 'sentence')})" if sentences else "") +
                       f" and rebuilt the index in {seconds:.1f} s; {holds}.")
        else:
            message = f"Rebuilt the index in {seconds:.1f} s; {holds}."
        log.info("upload rebuild of %s: %s", self.work, message)
        return RebuildResult(message, added, not report.unchanged, seconds, warnings)

    def _start_work_index(self, served: Path) -> None:
        """A first rebuild starts from a copy of the served index, so that its documents are re-used, not
        embedded again; the base index itself is never written."""
        import shutil

        served = Path(served)
        if self.work.exists() or os.path.abspath(served) == os.path.abspath(self.work) \
                or not (served / "manifest.json").is_file():
            return
        staging = self.work.with_name(f".{self.work.name}.copy-{uuid.uuid4().hex[:8]}")
        try:
            shutil.copytree(served, staging)
            os.replace(staging, self.work)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)      # the build then embeds everything instead

    @staticmethod
    def _discard(saved: Path | None, created: bool, marker: Path | None = None) -> None:
        if saved is not None and created:
            try:
                saved.unlink()
            except OSError:
                log.warning("could not remove %s after a failed rebuild", saved)
        _unlink(marker)

    def _mark_pending(self, digest: str) -> Path:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            marker = self.folder / f"{PENDING_PREFIX}{digest}"
            with open(marker, "w", encoding="ascii") as fh:
                fh.write(digest)
                fh.flush()
                os.fsync(fh.fileno())
            return marker
        except OSError as exc:
            raise UploadError(f"cannot save the upload in {self.folder}: {exc.strerror or exc}") from None

    def drop_unconfirmed(self, manifest: dict) -> list[Path]:
        """Remove uploads whose rebuild never completed (their marker is still there and the index does
        not hold their bytes), and the markers; the files removed."""
        try:
            markers = [p for p in self.folder.iterdir() if p.name.startswith(PENDING_PREFIX)]
        except OSError:
            return []
        if not markers:
            return []
        indexed = {s.get("sha256") for s in manifest.get("sources", [])}
        pending = {m.name[len(PENDING_PREFIX):] for m in markers} - indexed
        removed = []
        if pending:
            for path in self.folder.iterdir():
                if path.name.startswith(".") or not path.is_file() or path.is_symlink():
                    continue
                try:
                    if _sha256(path) in pending:
                        path.unlink()
                        removed.append(path)
                except OSError:
                    log.warning("could not remove the unconfirmed upload %s", path)
        for marker in markers:
            _unlink(marker)
        if removed:
            log.warning("removed %s, uploaded for a rebuild that did not complete",
                        ", ".join(p.name for p in removed))
        return removed


def _unlink(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink()
        except OSError:
            pass


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
    except ValueError:
        return False
    return True


def _holds(manifest: dict) -> str:
    counts = manifest.get("counts", {})
    return (f"the index holds {plural(counts.get('sources', 0), 'document')}, "
            f"{plural(counts.get('sentences', 0), 'sentence')}")


def _recorded_name(path: Path, root: Path) -> str:
    """The "source" string a build records for `path` (relative to the project root when inside it)."""
    return display_path(Path(path), root)
