"""Find source files, read them as text, and mark page furniture."""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
BINARY_SUFFIXES = {".pdf": "pdf", ".docx": "docx"}     # read by qa.reading.pdf / qa.reading.docx
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | set(BINARY_SUFFIXES)
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
    format: str | None = None           # "pdf" or "docx" (their encoding is "": they are not text)
    pages: list[int] | None = None      # PDF: offset in `text` where each page starts (qa.reading.positions)
    headings: list | None = None        # DOCX: [offset, level, text] of each heading

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
            if problem is None:
                raise SourceError(f"no such file or folder: {path}")
            skipped.append((path, problem))     # a broken link or a loop named beside good files: skip it
            continue
        if path.is_dir():
            _walk(path, found, skipped, seen_dirs)
        elif not path.is_file():      # a FIFO would block the read forever, /dev/zero never ends
            skipped.append((path, "not a regular file"))
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
    """Decode bytes as text, trying common encodings; refuse binary data.

    UTF-16 is taken only with a byte-order mark or, without one, when one byte lane is the zero half of
    ASCII characters; Windows-1252 only for what reads as Western text. Every byte string decodes as
    Windows-1252 (but five), and most as UTF-16, so without these checks random bytes passed as text.
    """
    if not data:
        raise SourceError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    elif b"\x00" in data:
        lane = _utf16_without_bom(data)
        if lane is None:
            raise SourceError("binary file (contains NUL bytes)")
        candidates = (lane,)
    else:
        candidates = ("utf-8", "cp1252")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            raise SourceError("binary file (mostly control characters)")
        if encoding != "utf-8" and not _reads_as_text(data, encoding):
            raise SourceError(f"binary file (not plausible {_ENCODING_NAMES[encoding]} text)")
        return text, encoding
    raise SourceError("not valid text in UTF-8, UTF-16 or Windows-1252")


_ENCODING_NAMES = {"utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", "cp1252": "Windows-1252"}
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")     # not \t \n \v \f \r; DEL and C1 too
_NOT_TEXT = frozenset(("Cc", "Cn", "Co", "Cs"))     # controls, unassigned, private use, lone surrogates
_ODD_1252 = frozenset(("Sc", "Sk", "Sm", "So", "No", "Cf"))   # symbols: a few in real text, a third of random


def _looks_binary(text: str) -> bool:
    """More than 5% control characters (whitespace aside); counted over the whole text at C speed."""
    controls = len(text) - len(_CONTROLS.sub("", text))
    return controls > len(text) * 0.05


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when one byte lane holds the zero half of mostly printable Latin-1."""
    if len(data) % 2:
        return None
    for encoding, dtype in (("utf-16-le", "<u2"), ("utf-16-be", ">u2")):
        units = np.frombuffer(data[:65536], dtype=dtype)
        latin1 = units[units < 256]
        printable = np.isin(latin1, _PRINTABLE_LATIN1).sum()
        if len(latin1) >= 0.5 * len(units) and printable >= 0.95 * len(latin1):
            return encoding
    return None


_PRINTABLE_LATIN1 = np.array([9, 10, 12, 13, *range(32, 127), *range(160, 256)])
_CP1252 = [bytes([value]).decode("cp1252", errors="replace") for value in range(256)]


def _reads_as_text(data: bytes, encoding: str) -> bool:
    """Whether a UTF-16 or Windows-1252 decoding looks like writing rather than bytes that happen to decode.

    UTF-16: at most 1% unassigned, private-use or control characters (random code units give 12%).
    Windows-1252: at most 30% non-ASCII characters, and at most 5% symbols or controls (random high bytes
    give about a third); real text in a Western language has a few accented letters and curly quotes.
    Counted over the whole file with one histogram of its bytes or code units, then one look per value.
    """
    if encoding == "cp1252":
        histogram = _histogram(np.frombuffer(data, dtype=np.uint8), 256)
        char = _CP1252.__getitem__
    else:
        if encoding == "utf-16":
            encoding = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
            data = data[2:]
        units = np.frombuffer(data, dtype="<u2" if encoding == "utf-16-le" else ">u2")
        histogram = _histogram(units, 65536)
        char = chr          # a surrogate unit stands for half a character outside the BMP: it counts as text
    visible = bad = odd = non_ascii = 0
    for value in np.flatnonzero(histogram).tolist():
        ch, n = char(value), int(histogram[value])
        if ch.isspace():
            continue
        visible += n
        category = unicodedata.category(ch)
        bad += n if category in _NOT_TEXT and category != "Cs" else 0
        odd += n if category in _ODD_1252 else 0
        non_ascii += n if value >= 128 else 0
    if encoding != "cp1252":
        return bad <= max(1, 0.01 * visible)
    return non_ascii <= max(4, 0.3 * visible) and bad + odd <= max(2, 0.05 * visible)


def _histogram(values: np.ndarray, size: int, block: int = 1 << 20) -> np.ndarray:
    """np.bincount a block at a time: it widens its input to 64-bit integers, 8 bytes for each byte at once."""
    histogram = np.zeros(size, dtype=np.int64)
    for start in range(0, len(values), block):
        histogram += np.bincount(values[start:start + block], minlength=size)
    return histogram


def read_document(path: Path, root: Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Document:
    """Read and decode one source file; SourceError says why it cannot be used."""
    data = _read_limited(path, max_bytes)
    kind = BINARY_SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        return _read_binary(path, root, data, kind)
    text, encoding = decode(data)
    offsets = "file"
    if path.suffix.lower() in HTML_SUFFIXES:
        from .html import html_to_text
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


def extract_binary(data: bytes, kind: str):
    """The text of a PDF or .docx file's bytes (a qa.reading.positions.Extracted), or SourceError."""
    if kind == "pdf":
        from .pdf import extract_pdf
        return extract_pdf(data)
    from .docx import extract_docx
    return extract_docx(data)


def _read_binary(path: Path, root: Path, data: bytes, kind: str) -> Document:
    extracted = extract_binary(data, kind)
    return Document(source=display_path(path, root), path=path, text=extracted.text,
                    sha256=hashlib.sha256(data).hexdigest(), encoding="", size=len(data),
                    offsets="extracted-text", format=kind, pages=extracted.pages or None,
                    headings=extracted.headings or None)


def _read_limited(path: Path, max_bytes: int | None) -> bytes:
    """The bytes of a regular file, never more than max_bytes + 1 of them.

    The file is opened without blocking and checked once open, so a path that became a FIFO or a device
    after it was found cannot hang the build or fill the memory (their size reads 0, so it says nothing).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("not a regular file")
        if max_bytes is not None and st.st_size > max_bytes:
            raise SourceError(_too_large(_megabytes(st.st_size), max_bytes))
        data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:      # it grew while being read
        raise SourceError(_too_large(f"over {_megabytes(max_bytes)}", max_bytes))
    return data


def _too_large(size: str, max_bytes: int) -> str:
    return f"too large ({size}; the limit is {_megabytes(max_bytes)}, raise it with --max-bytes)"


def _megabytes(n: int) -> str:
    """A size as people read it: 812 bytes, 1.0 KB, 20.0 MB."""
    if n < 1000:
        return f"{n:,} bytes"
    if n < 1_000_000:
        return f"{n / 1e3:.1f} KB"
    return f"{n / 1e6:.1f} MB"


def is_furniture(sentence: str) -> bool:
    return bool(_FURNITURE.match(" ".join(sentence.split())))
