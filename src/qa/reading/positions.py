"""Where a span of an extracted text lies in its document: the PDF page, the Word heading.

A PDF or Word file is indexed as the text extracted from it (stored in the index folder, its citations'
offsets point into it). Beside that text the manifest records, per source:

    "pages":    [0, 1480, 3012, ...]     character offset where each page starts (1-based page n starts at
                                         pages[n - 1]; an empty page starts where the next one does)
    "headings": [[0, 1, "Title"], [812, 2, "Methods"], ...]     offset, level and text of each heading

so a citation's page and heading are computed from its offsets, never guessed.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass
class Extracted:
    """The text read out of a PDF or Word file, with where its pages and headings start."""
    text: str
    pages: list[int] = field(default_factory=list)
    headings: list[list] = field(default_factory=list)


def page_at(pages: list[int], offset: int) -> int | None:
    """The 1-based page on which the character at `offset` lies (None without pages)."""
    if not pages:
        return None
    return max(1, bisect_right(pages, offset))


def heading_at(headings: list[list], offset: int) -> str | None:
    """The text of the nearest heading at or before `offset` (None when none comes before it)."""
    n = bisect_right([h[0] for h in headings], offset)
    return headings[n - 1][2] if n else None


def locate(info: dict, start: int, end: int) -> dict:
    """A source's manifest entry and a span of its text -> {"page", "end_page"} and/or {"heading"}.

    The page is the one where the span starts, the end page the one holding its last character (the same
    page unless the span crosses a page break); sources without pages or headings give {}.
    """
    out = {}
    pages = info.get("pages")
    if pages:
        out["page"] = page_at(pages, start)
        out["end_page"] = page_at(pages, max(start, end - 1))
    headings = info.get("headings")
    if headings:
        out["heading"] = heading_at(headings, start)
    return out


def layout_problem(info: dict) -> str | None:
    """What is wrong with a manifest entry's pages or headings, or None (also when it has none)."""
    chars = info.get("chars")
    limit = chars if type(chars) is int else None
    pages = info.get("pages")
    if pages is not None:
        if not (isinstance(pages, list) and pages and all(type(p) is int and p >= 0 for p in pages)
                and all(a <= b for a, b in zip(pages, pages[1:])) and pages[0] == 0
                and (limit is None or pages[-1] <= limit)):
            return "pages is not a list of increasing offsets into the text"
    headings = info.get("headings")
    if headings is not None:
        if not (isinstance(headings, list) and all(
                isinstance(h, list) and len(h) == 3 and type(h[0]) is int and h[0] >= 0 and type(h[1]) is int
                and isinstance(h[2], str) and (limit is None or h[0] <= limit) for h in headings)
                and all(a[0] <= b[0] for a, b in zip(headings, headings[1:]))):
            return "headings is not a list of [offset, level, text] in order"
    return None
