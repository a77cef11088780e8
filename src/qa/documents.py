"""Find source files, read them as text, and mark page furniture."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
FALLBACK_ENCODINGS = ("utf-8", "utf-16", "cp1252", "latin-1")

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
    text: str        # the decoded file; offsets point into this
    sha256: str
    encoding: str
    size: int


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
        if not path.exists():
            raise SourceError(f"no such file or folder: {path}")
        if path.is_dir():
            _walk(path, found, skipped, seen_dirs)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
        else:
            skipped.append((path, f"unsupported file type '{path.suffix or 'none'}'"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, skipped


def _walk(folder: Path, found: list, skipped: list, seen: set) -> None:
    st = folder.stat()
    if (st.st_dev, st.st_ino) in seen:
        skipped.append((folder, "symlink loop"))
        return
    seen.add((st.st_dev, st.st_ino))
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
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
                skipped.append((path, "not a regular file (broken link?)"))
        except OSError as exc:
            skipped.append((path, exc.strerror or str(exc)))


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as text, trying common encodings; refuse binary data."""
    if not data:
        raise SourceError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    else:
        if b"\x00" in data[:8192]:
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


def read_document(path: Path, root: Path) -> Document:
    data = path.read_bytes()
    text, encoding = decode(data)
    if path.suffix.lower() in HTML_SUFFIXES:
        from .html_text import html_to_text
        text = html_to_text(text)
    if not text.strip():
        raise SourceError("no text (only whitespace)")
    return Document(
        source=display_path(path, root),
        path=path,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        size=len(data),
    )


def is_furniture(sentence: str) -> bool:
    return bool(_FURNITURE.match(" ".join(sentence.split())))
