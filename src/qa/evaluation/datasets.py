"""Q&A rows from JSON Lines, and where their evidence lies in the document."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import PROJECT_ROOT

_WS = re.compile(r"\s+")


class DatasetError(ValueError):
    """A Q&A file that cannot be used; the message says which line and why."""


@dataclass
class Row:
    id: str
    question: str
    answers: list[str]
    evidence: list[str]          # phrases of the supporting sentence(s); empty when unanswerable
    answerable: bool
    type: str = ""
    history: list = field(default_factory=list)


@dataclass(frozen=True)
class Span:
    """A character range of a source file, as stored."""
    source: str
    start: int
    end: int

    def overlaps(self, other: "Span") -> bool:
        return self.source == other.source and self.start < other.end and other.start < self.end


def load_dataset(path: Path | str) -> list[Row]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            evidence = data.get("evidence") or []
            rows.append(Row(
                id=str(data.get("id") or f"{path.stem}-{number}"),
                question=data["question"],
                answers=[a for a in data.get("answers") or [] if a],
                evidence=[evidence] if isinstance(evidence, str) else [e for e in evidence if e],
                answerable=bool(data.get("answerable", True)),
                type=data.get("type") or "",
                history=data.get("history") or [],
            ))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise DatasetError(f"{path}:{number}: not a Q&A row ({type(exc).__name__}: {exc})") from None
    return rows


def source_path(source: str, root: Path = PROJECT_ROOT) -> Path:
    """The file behind a source name recorded in an index (relative to the project root when inside it)."""
    path = Path(source)
    return path if path.is_absolute() else root / path


def read_source(source: str, root: Path = PROJECT_ROOT) -> str:
    """The text that offsets into the source point into: the file's text exactly as stored (no newline
    translation), or for HTML, PDF and Word files the text read out of them, as `qa build` reads it
    (an index keeps that text too: `Index.source_text`)."""
    from ..reading.documents import read_document
    return read_document(source_path(source, root), root, max_bytes=None).text


def collapse_with_map(raw: str) -> tuple[str, list[int]]:
    """Whitespace runs collapsed to one space; map[i] is the raw offset of collapsed char i (+ end)."""
    chars: list[str] = []
    mapping: list[int] = []
    pos = 0
    for match in _WS.finditer(raw):
        chars.extend(raw[pos:match.start()])
        mapping.extend(range(pos, match.start()))
        chars.append(" ")
        mapping.append(match.start())
        pos = match.end()
    chars.extend(raw[pos:])
    mapping.extend(range(pos, len(raw)))
    mapping.append(len(raw))
    return "".join(chars), mapping


class EvidenceLocator:
    """Finds evidence phrases in documents, with offsets into the files as stored."""

    def __init__(self, texts: dict[str, str]):
        self._docs = {}
        for source, raw in texts.items():
            collapsed, mapping = collapse_with_map(raw)
            self._docs[source] = (collapsed, collapsed.lower(), mapping)

    @classmethod
    def for_sources(cls, sources: list[str], root: Path = PROJECT_ROOT) -> "EvidenceLocator":
        return cls({s: read_source(s, root) for s in sources})

    def locate(self, phrase: str) -> list[Span]:
        """Every occurrence of the phrase (whitespace-insensitive; case-insensitive if no exact match)."""
        needle = " ".join(phrase.split())
        if not needle:
            return []
        found = self._find(needle, lower=False) or self._find(needle.lower(), lower=True)
        return found

    def _find(self, needle: str, lower: bool) -> list[Span]:
        spans = []
        for source, (collapsed, low, mapping) in self._docs.items():
            haystack = low if lower else collapsed
            pos = haystack.find(needle)
            while pos >= 0:
                end = pos + len(needle)
                spans.append(Span(source, mapping[pos], mapping[end - 1] + 1))
                pos = haystack.find(needle, pos + 1)
        return spans

    def gold_spans(self, row: Row) -> list[Span]:
        """Where the row's evidence lies; empty for unanswerable rows or evidence not found."""
        if not row.answerable:
            return []
        return [span for phrase in row.evidence for span in self.locate(phrase)]
