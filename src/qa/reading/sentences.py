"""Split a text into sentences with exact character offsets into the text as given.

Rule based, so it runs offline and fast. Blank lines end paragraphs; single
newlines inside a paragraph are hard wraps. A line standing alone without a
full stop (a title, a heading) is a sentence of its own. A full stop after an
abbreviation ("U.S.", "Mr.", "Harry S.") ends a sentence only when the next
word is one that typically starts a sentence ("The", "We", ...).
"""
from __future__ import annotations

import re

# Abbreviations after which a full stop never ends a sentence.
_TITLES = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "col", "lt", "capt", "cmdr", "sgt",
    "gov", "sen", "rep", "hon", "rev", "pres", "messrs", "vs", "etc", "e.g", "i.e", "cf", "al",
    "inc", "ltd", "co", "corp", "no", "nos", "vol", "fig", "pp", "p", "ch", "sec", "art", "para",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx",
    "dept", "est", "mt", "ft", "univ", "assn", "bros", "ave", "blvd", "rd",
}
# Words that typically open a sentence: after "U.S." these mean a new sentence starts.
_STARTERS = {
    "the", "a", "an", "we", "i", "it", "this", "that", "these", "those", "he", "she", "they",
    "there", "in", "on", "at", "but", "and", "or", "so", "however", "meanwhile", "our", "his",
    "her", "its", "their", "my", "you", "as", "after", "before", "during", "since", "when",
    "while", "if", "although", "though", "moreover", "also", "for", "to", "with", "by", "from",
    "what", "who", "why", "how", "where", "which", "today", "yesterday", "then", "now", "both",
    "all", "some", "many", "most", "each", "one", "no", "not", "yet", "still", "similarly",
    "furthermore", "finally", "first", "second", "third", "last", "under", "over",
}
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«"
_TERMINAL = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_BLOCK_LINE = re.compile(r"^\s*(#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>\s)")
_WORD_BEFORE = re.compile(r"(\S+)$")
_WORD_AFTER = re.compile(r"^[" + re.escape(_OPENERS) + r"]*([\w$£€]+)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of each sentence; text[start:end] is the sentence."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        spans.extend(_split_block(text, block_start, block_end))
    return spans


def _blocks(text: str):
    """Paragraphs, with headings, list items and quotes-lines split off as their own blocks."""
    pos = 0
    for brk in list(_PARAGRAPH_BREAK.finditer(text)) + [None]:
        end = brk.start() if brk else len(text)
        yield from _lines_to_blocks(text, pos, end)
        if brk:
            pos = brk.end()


def _lines_to_blocks(text: str, start: int, end: int):
    lines = []
    pos = start
    for line in text[start:end].splitlines(keepends=True):
        lines.append((pos, pos + len(line)))
        pos += len(line)
    block_start = None
    for i, (ls, le) in enumerate(lines):
        line = text[ls:le]
        if not line.strip():
            continue
        standalone = bool(_BLOCK_LINE.match(line)) or (len(lines) == 1 and _is_heading(line))
        if standalone or block_start is None and _is_heading(line) and i + 1 < len(lines) and _BLOCK_LINE.match(text[lines[i + 1][0]:lines[i + 1][1]]):
            if block_start is not None:
                yield block_start, ls
                block_start = None
            if _BLOCK_LINE.match(line) or _is_heading(line):
                yield ls, le
                continue
        if block_start is None:
            block_start = ls
    if block_start is not None:
        yield block_start, end


def _is_heading(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and len(stripped) < 120 and stripped[-1] not in ".!?:;,…" + _CLOSERS


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    block = text[start:end]
    spans = []
    sent_start = 0
    for match in _TERMINAL.finditer(block):
        cut = match.end()
        if _is_boundary(block, match.start(), cut):
            spans.append((sent_start, cut))
            sent_start = cut
    spans.append((sent_start, len(block)))
    out = []
    for s, e in spans:
        while s < e and block[s].isspace():
            s += 1
        while e > s and block[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((start + s, start + e))
    return out


def _is_boundary(block: str, dot: int, cut: int) -> bool:
    after = _WORD_AFTER.match(block[cut:cut + 256].lstrip())
    if not after:
        return False
    next_word = after.group(1)
    if not (next_word[0].isupper() or next_word[0].isdigit() or next_word[0] in "$£€"):
        return False
    if block[dot] != ".":
        return True
    before = _WORD_BEFORE.search(block, max(0, dot - 256), dot)
    if not before:
        return True
    word = before.group(1).lstrip(_OPENERS)
    low = word.lower()
    if low in _TITLES:
        return False
    is_initials = bool(re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word))
    if is_initials:
        return next_word.lower() in _STARTERS
    return True
