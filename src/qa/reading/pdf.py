"""PDF files (their text layer) as text, with the offset where each page starts.

PDFium (pypdfium2; chosen by measurement, docs/indexing.md) reads the file in a child process
(`pdf_worker`) that caps its own memory and CPU time, so that no PDF can take the build, the server
or the chat's upload check down with it; `pdf_layout` turns what it read into text. Every file is
refused with one line, in bounded time and memory, when it is:

- not a PDF at all (no "%PDF-" header: HTML, text or other bytes under a .pdf name);
- truncated (no "%%EOF" marker in its last KB), or corrupt (PDFium cannot open it);
- password-protected (a PDF that opens without a password, with only its permissions restricted, is read);
- a decompression bomb: its compressed streams (images aside) expand to over MAX_INFLATED bytes, counted
  as they are inflated, before PDFium sees the file;
- over MAX_PAGES pages (a PDF of 100,000 empty pages is refused once its page count is read), or over
  MAX_CHARS characters of text;
- without a text layer (a scan: "would need OCR"), or without anything on its pages;
- more than the child's limits allow: MEMORY_BYTES of address space; CPU time of 5 s + 0.05 s a page
  (pdf_worker.CPU_BASE, CPU_PER_PAGE), at most CPU_SECONDS; WALL_SECONDS in all (then it is killed).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from .documents import SourceError
from .positions import Extracted

MAX_PAGES = 5_000
MAX_CHARS = 20_000_000
MAX_INFLATED = 256 * 1024 * 1024
MEMORY_BYTES = 1024 * 1024 * 1024
CPU_SECONDS = 60
WALL_SECONDS = 90
WORKER = Path(__file__).with_name("pdf_worker.py")
_MIB = 1024 * 1024
# what a child that reached its address-space limit prints (Python, the loader, C++)
_OUT_OF_MEMORY = (b"MemoryError", b"Cannot allocate memory", b"failed to map segment", b"bad_alloc")


def extract_pdf(data: bytes) -> Extracted:
    """The text of a PDF's pages, in reading order, with the offset where each page starts."""
    check_pdf(data)
    pages = _run_worker(data)
    from .pdf_layout import layout

    extracted = layout(pages)
    if not extracted.text.strip():
        raise SourceError("no text layer: this PDF would need OCR")
    return extracted


def check_pdf(data: bytes) -> None:
    """Refuse what is plainly not a whole PDF, before any parser sees it."""
    if not data:
        raise SourceError("empty file")
    if b"%PDF-" not in data[:1024]:
        raise SourceError(f"not a PDF ({looks_like(data)})")
    if b"%%EOF" not in data[-1024:]:
        raise SourceError("truncated or corrupt PDF (no end-of-file marker at its end)")


def looks_like(data: bytes) -> str:
    """What bytes that are not the format their name says look like, in a few words."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")) or re.search(rb"<(html|head|body)[\s>]", head):
        return "it is an HTML page"
    if head.startswith(b"pk\x03\x04"):
        return "it is a ZIP archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "it is an old Office file"
    if head.startswith(b"%pdf-"):
        return "it is a PDF"
    if b"\x00" in data[:4096] or sum(b < 9 or 13 < b < 32 for b in data[:4096]) > 0.05 * min(len(data), 4096):
        return "it holds binary data"
    return "it is plain text"


def _run_worker(data: bytes) -> list[tuple[float, float, list]]:
    command = [sys.executable, "-I", str(WORKER), str(MEMORY_BYTES), str(CPU_SECONDS), str(MAX_PAGES),
               str(MAX_CHARS), str(MAX_INFLATED)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=WALL_SECONDS,
                              env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"})
    except subprocess.TimeoutExpired:
        raise SourceError(f"PDF took over {WALL_SECONDS} s to read (the limit); not indexed") from None
    except OSError as exc:
        raise SourceError(f"cannot start the PDF reader: {exc.strerror or exc}") from None
    records = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    error = next((r for r in records if "error" in r), None)
    if error is not None:
        raise SourceError(_message(error))
    if done.returncode != 0 or not records or not records[-1].get("end"):
        raise SourceError(_failure(done.returncode, done.stderr))
    end = records[-1]
    pages = [(r["w"], r["h"], r["f"]) for r in records[1:-1]]
    if end.get("letters", 0) == 0:
        if not any(r.get("o") for r in records[1:-1]):
            raise SourceError("no text: its pages are empty")
        raise SourceError("no text layer: this PDF would need OCR")
    return pages


def _message(error: dict) -> str:
    kind = error["error"]
    if kind == "password":
        return "password-protected PDF (remove the password to index it)"
    if kind == "inflated":
        return (f"a compressed stream in this PDF expands to over {MAX_INFLATED // _MIB} MB "
                "(a decompression bomb?); not read")
    if kind == "pages":
        return f"too many pages ({error['count']:,}; the limit is {MAX_PAGES:,})"
    if kind == "chars":
        return f"too much text (over {MAX_CHARS:,} characters)"
    detail = error.get("detail") or ""
    return "corrupt PDF (PDFium cannot read it" + (f": {detail}" if detail else "") + ")"


def _failure(returncode: int, stderr: bytes) -> str:
    if returncode == -signal.SIGXCPU or returncode == -signal.SIGKILL:
        return "PDF took too long to read (over its CPU time limit: 5 s + 0.05 s a page); not indexed"
    if any(sign in stderr for sign in _OUT_OF_MEMORY) or returncode in (-signal.SIGABRT, -signal.SIGSEGV,
                                                                        -signal.SIGBUS):
        return (f"the PDF reader failed on this file (corrupt, or it needs over {MEMORY_BYTES // _MIB} MB "
                "of memory); not indexed")
    last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {returncode}"]
    return f"the PDF reader failed on this file ({last[0][:200]})"
