"""What the reader reads for a question: chosen sentences laid out as one passage, in document order.

Runs of adjacent sentences are joined by a space, as in the text; a gap between runs is marked with the
reader's separator token, so that it never reads two distant sentences as one. Training lays out its
examples with the same function, so the reader sees at answer time what it learned on.
"""
from __future__ import annotations

from dataclasses import dataclass

GAP = " [SEP] "       # between sentences that are not neighbours in the document


@dataclass
class Laid:
    """Where each sentence lies in the passage text: (sentence key, start, end), in passage order."""
    text: str
    parts: list[tuple[object, int, int]]

    def part_of(self, start: int) -> int:
        """Index of the part holding passage offset `start` (the last part starting at or before it)."""
        k = 0
        for i, (_, s, _) in enumerate(self.parts):
            if s <= start:
                k = i
        return k


def lay_out(sentences: list[tuple[object, str]], adjacent) -> Laid:
    """`sentences`: (key, text) in document order; `adjacent(a, b)`: whether key b directly follows key a."""
    pieces, parts, pos, prev = [], [], 0, None
    for key, text in sentences:
        if prev is not None:
            sep = " " if adjacent(prev, key) else GAP
            pieces.append(sep)
            pos += len(sep)
        parts.append((key, pos, pos + len(text)))
        pieces.append(text)
        pos += len(text)
        prev = key
    return Laid("".join(pieces), parts)
