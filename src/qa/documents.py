"""Find source files, read them as text, and mark page furniture."""
from __future__ import annotations

import errno
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
FALLBACK_ENCODINGS = ("utf-8", "utf-16", "cp1252")
# Larger files are refused unread: indexing runs at about 9 KB of text a second on 2 CPU cores (spaCy
# and the embedder), so 20 MB is already a 40-minute build. `qa build --max-bytes` raises the limit.
DEFAULT_MAX_BYTES = 20_000_000
# A folder holding these is an index folder (perhaps one inside the corpus): never read as sources.
_INDEX_MARKERS = ("manifest.json", "chunks.faiss")

# Short lines that sites print around an article; never an answer.
_FURNITURE = re.compile(
    r"^\s*(comments? (are|is) (now )?closed|subscribe( to (our )?(the )?newsletter)?|sign up for .*newsletter|"
    r"share (this|on \w+)|leave a (reply|comment)|related (posts|articles)|read more|advertisement|"
    r"click here.*|follow us.*|all rights reserved.*|posted (in|by) .*|tags?:.*|print( this)?( page)?|"
    r"back to top|previous (post|article)|next (post|article)|skip to (main )?content)\s*[.!]?\s*$",
    re.IGNORECASE,
)


class SourceError(ValueError):
    """A file that cannot be used as a source, with a one-line reason."""


@dataclass
class Document:
    source: str      # path as recorded in the index (relative to the project root when inside it)
    path: Path
    text: str        # the decoded file, or for HTML the extracted text; offsets point into this
    sha256: str      # of the file's bytes
    encoding: str
    size: int
    offsets: str = "file"    # "file": into the decoded file; "extracted-text": into `text`, not the raw file

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def display_path(path: Path, root: Path) -> str:
    path = path.resolve()
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def find_sources(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and folders (recursively) into supported files; also return what was skipped and why."""
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    seen_dirs: set[tuple[int, int]] = set()
    for path in paths:
        path = Path(path)
        if not path.exists():
            problem = _unreachable(path)
            raise SourceError(f"{problem}: {path}" if problem else f"no such file or folder: {path}")
        if path.is_dir():
            _walk(path, found, skipped, seen_dirs)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
        else:
            skipped.append((path, f"unsupported file type '{path.suffix or 'none'}'"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, skipped


def _unreachable(path: Path) -> str | None:
    """Why a path that is a symlink cannot be followed (None when it is simply missing)."""
    if not path.is_symlink():
        return None
    try:
        os.stat(path)
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
    return None


def _walk(folder: Path, found: list, skipped: list, seen: set) -> None:
    try:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in seen:
            skipped.append((folder, "symlink loop (folder already visited)"))
            return
        seen.add((st.st_dev, st.st_ino))
        if all((folder / name).exists() for name in _INDEX_MARKERS):
            skipped.append((folder, "an index folder, not a source"))
            return
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        skipped.append((folder, os_reason(exc)))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                _walk(path, found, skipped, seen)
            elif entry.is_file():
                if path.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append(path)
                else:
                    skipped.append((path, f"unsupported file type '{path.suffix or 'none'}'"))
            else:
                skipped.append((path, _unreachable(path) or "not a regular file"))
        except OSError as exc:
            skipped.append((path, os_reason(exc)))


def os_reason(exc: OSError) -> str:
    """A short reason for a file that could not be read."""
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return exc.strerror or str(exc)


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as text, trying common encodings; refuse binary data."""
    if not data:
        raise SourceError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    else:
        if b"\x00" in data:
            raise SourceError("binary file (contains NUL bytes)")
        candidates = ("utf-8", "cp1252")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise SourceError("binary file (mostly control characters)")
        return text, encoding
    raise SourceError("not valid text in UTF-8, UTF-16 or Windows-1252")


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f\v")
    return controls > len(sample) * 0.05


def read_document(path: Path, root: Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Document:
    """Read and decode one source file; SourceError says why it cannot be used."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise SourceError(f"too large ({_megabytes(size)}; the limit is {_megabytes(max_bytes)}, "
                          "raise it with --max-bytes)")
    data = path.read_bytes()
    text, encoding = decode(data)
    offsets = "file"
    if path.suffix.lower() in HTML_SUFFIXES:
        from .html_text import html_to_text
        text, offsets = html_to_text(text), "extracted-text"
    if not text.strip():
        raise SourceError("no text (only whitespace)" if offsets == "file" else
                          "no visible text (only markup, scripts or styles)")
    return Document(
        source=display_path(path, root),
        path=path,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        size=len(data),
        offsets=offsets,
    )


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def is_furniture(sentence: str) -> bool:
    return bool(_FURNITURE.match(" ".join(sentence.split())))
