"""Group sentences into overlapping chunks under a token budget."""
from __future__ import annotations

from functools import lru_cache

from ..config import TOKEN_ENCODING, ChunkSettings


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken
    return tiktoken.get_encoding(TOKEN_ENCODING)


def count_tokens(texts: list[str], batch: int = 2048) -> list[int]:
    """Tokens per text; encoded a batch at a time so that only the counts stay in memory."""
    enc = _encoding()
    counts: list[int] = []
    for i in range(0, len(texts), batch):
        counts.extend(len(t) for t in enc.encode_ordinary_batch(texts[i:i + batch]))
    return counts


def split_long_span(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut a span too long for one chunk at word boundaries into pieces under the budget."""
    enc = _encoding()
    pieces = []
    pos = start
    # about 3 characters a token for ordinary text; shrink until the piece fits
    while pos < end:
        size = max_tokens * 3
        while True:
            cut = min(end, pos + size)
            if cut < end:
                space = text.rfind(" ", pos + 1, cut)
                if space > pos:
                    cut = space
            if len(enc.encode_ordinary(text[pos:cut])) <= max_tokens or size <= 8:
                break
            size //= 2
        pieces.append((pos, cut))
        pos = cut
        while pos < end and text[pos].isspace():
            pos += 1
    return pieces


def pack_chunks(token_counts: list[int], settings: ChunkSettings) -> list[tuple[int, int]]:
    """Greedy packing of consecutive sentences; returns (first, last) sentence indices, inclusive."""
    chunks = []
    n = len(token_counts)
    first = 0
    while first < n:
        total = token_counts[first]
        last = first
        while last + 1 < n and total + token_counts[last + 1] <= settings.max_tokens:
            last += 1
            total += token_counts[last]
        chunks.append((first, last))
        if last + 1 >= n:
            break
        first = max(last + 1 - settings.overlap_sentences, first + 1)
    return chunks
