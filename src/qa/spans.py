"""The shortest verbatim span of a sentence that answers the question's type."""
from __future__ import annotations

import re

from .keyword import STOPWORDS, stem
from .question import ANSWER_LABELS, QuestionInfo

# cue words that open an answering clause, strongest first
_REASON_CUES = ("because of", "because", "in order to", "so as to", "so that", "due to", "owing to", "aiming to",
                "aimed at", "in an effort to", "as a result of", "for the purpose of", "since", "to")
_MANNER_CUES = ("with the help of", "by", "through", "via", "using")
_CLAUSE_END = re.compile(r"[,;:.!?)]|\s[–—-]\s")
_WORD = re.compile(r"[\w’'$%.\-]+")


def extract_span(info: QuestionInfo, text: str, entities: list,
                 weights: dict[str, float] | None = None) -> tuple[int, int] | None:
    """(start, end) inside `text`, or None when no span of the right kind is found.

    `weights` (term -> IDF) make rare question words count more when placing the answer near them.
    """
    qterms = set(info.terms)
    weights = weights or {}
    if info.focus and info.qtype in ("date", "amount", "noun"):
        # "which century": the focus noun belongs to the answer, not to what is asked about
        qterms.discard(stem(info.focus))
    if info.qtype == "expansion":
        return _expansion(text, info.focus)
    if info.qtype == "acronym":
        return _acronym(text, qterms)
    if info.qtype in ANSWER_LABELS:
        span = _typed_entity(info, text, entities, qterms, weights)
        if span or info.qtype not in ("organisation", "person"):
            return span
    if info.qtype == "reason":
        return _cue_clause(text, _REASON_CUES, qterms)
    if info.qtype == "manner":
        return _cue_clause(text, _MANNER_CUES, qterms) or _residual(text, qterms)
    if info.qtype == "action":
        return _predicate(text, qterms) or _residual(text, qterms)
    if info.qtype in ("noun", "organisation", "person"):
        return _noun_phrase(info, text, entities, qterms, weights) or _residual(text, qterms)
    return _residual(text, qterms)


def has_wanted_type(info: QuestionInfo, span: tuple[int, int] | None, entities: list) -> bool:
    """Whether `span` answers in the question's own kind: for "who/when/where/how much" questions, it
    must overlap an entity of a wanted label (a noun phrase picked as a fallback does not count)."""
    if span is None:
        return False
    labels = ANSWER_LABELS.get(info.qtype)
    if labels is None:
        return True
    wanted = labels + _LAST_RESORT.get(info.qtype, ())
    return any(label in wanted and s < span[1] and e > span[0] for label, s, e in entities)


def _overlaps_question(segment: str, qterms: set[str]) -> float:
    words = [stem(w.lower().strip(".’'")) for w in _WORD.findall(segment)]
    words = [w for w in words if w and w not in STOPWORDS]
    if not words:
        return 1.0
    return sum(w.replace(".", "") in qterms for w in words) / len(words)


def _anchor_matches(text: str, qterms: set[str]) -> list[tuple[re.Match, str]]:
    """The question's words where they occur in the text, each with its stem."""
    out = []
    for m in _WORD.finditer(text):
        term = stem(m.group(0).lower().strip(".’'").replace(".", ""))
        if term in qterms:
            out.append((m, term))
    return out


def _anchor_positions(text: str, qterms: set[str], weights: dict[str, float]) -> list[tuple[int, float]]:
    """Where the question's words occur in the text, each with its weight."""
    return [(m.start(), weights.get(term, 1.0)) for m, term in _anchor_matches(text, qterms)]


_SEGMENT_BREAK = re.compile(r"[,;:()“”]|\s(?:and|or|while|but)\s")


def _nearest(candidates: list[tuple[int, int]], anchors: list[tuple[int, float]], text: str) -> tuple[int, int]:
    """The candidate closest to the question's words, counting every word near it by its weight;
    a word in the same list item or clause as the candidate counts as nearer."""
    if not anchors:
        return candidates[0]
    top = max(w for _, w in anchors)
    breaks = [m.start() for m in _SEGMENT_BREAK.finditer(text)]

    def segment(pos: int) -> int:
        return sum(1 for b in breaks if b < pos)

    def closeness(c):
        seg = segment(c[0])
        near = sum(w / (1.0 + (0.3 if segment(a) == seg else 1.0) * min(abs(a - c[0]), abs(a - c[1])) / 6.0)
                   for a, w in anchors)
        # a phrase wedged between the question's own words is part of what is asked, not the answer
        wedged = any(c[0] - 25 < a < c[0] for a, _ in anchors) and any(c[1] < a < c[1] + 25 for a, _ in anchors)
        return near - (top if wedged else 0.0)

    return max(candidates, key=closeness)


# a "who" question may also be answered by a country ("who did Pakistan sign it with?"), last
_LAST_RESORT = {"person": ("GPE",)}


def _typed_entity(info, text, entities, qterms, weights):
    anchors = _anchor_positions(text, qterms, weights)
    for label in ANSWER_LABELS[info.qtype] + _LAST_RESORT.get(info.qtype, ()):
        found = [(s, e) for lab, s, e in entities
                 if lab == label and _overlaps_question(text[s:e], qterms) < 0.5]
        if found:
            return _trim(text, *_coordinated(_nearest(found, anchors, text), found, text))
    return None


_COORDINATION = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)")


def _coordinated(span: tuple[int, int], same_kind: list[tuple[int, int]], text: str) -> tuple[int, int]:
    """Extend a span over a list of its kind ("SEATO and CENTO", "India, Pakistan and Afghanistan")."""
    start, end = span
    others = sorted(same_kind)
    for s, e in others:                       # rightwards
        if s >= end and _COORDINATION.fullmatch(text[end:s]):
            end = e
    for s, e in reversed(others):             # leftwards
        if e <= start and _COORDINATION.fullmatch(text[e:start]):
            start = s
    return start, end


_ATTACH = re.compile(r"\s+(?:\w+ing\s+)?(of|on|in|for|with|between|from|to|and|against)\s+")


def _extended_phrases(text: str, entities: list) -> list[tuple[int, int]]:
    """Noun phrases, each also joined with the phrases its prepositions attach ("a position on the issue of X")."""
    nps = sorted({(s, e) for lab, s, e in entities if lab == "NP"})
    out = list(nps)
    for i, (s, e) in enumerate(nps):
        end = e
        for s2, e2 in nps[i + 1:]:
            if s2 < end:
                continue
            if not _ATTACH.fullmatch(" " + text[end:s2] + " "):
                break
            end = e2
            out.append((s, end))
    return out


def _noun_phrase(info, text, entities, qterms, weights):
    anchors = _anchor_positions(text, qterms, weights)
    found = [(s, e) for s, e in _extended_phrases(text, entities) if _overlaps_question(text[s:e], qterms) < 0.5
             and not text[s:e].lower() in STOPWORDS]
    if info.focus:
        focus = stem(info.focus)
        with_focus = [(s, e) for s, e in found if focus in {stem(w.lower()) for w in _WORD.findall(text[s:e])}]
        found = with_focus or found
    return _trim(text, *_nearest(found, anchors, text)) if found else None


def _expansion(text: str, acronym: str | None):
    if not acronym:
        return None
    for match in re.finditer(r"\(\s*" + re.escape(acronym) + r"\s*\)", text):
        words = list(re.finditer(r"[\w’'\-]+", text[: match.start()]))
        need = len(acronym.replace("&", ""))
        # take words backwards until their capital initials spell the acronym
        taken, letters = [], ""
        for word in reversed(words):
            taken.append(word)
            parts = [p for p in re.split(r"[-]", word.group(0)) if p]
            letters = "".join(p[0].upper() for p in parts if p[0].isupper()) + letters
            if len(letters) >= need:
                break
        if taken and letters.endswith(acronym.replace("&", "")[-len(letters):]):
            first = len(words) - len(taken)
            # the name may run on before the spelled-out letters ("U.S. International Development ...")
            while first > 0 and len(taken) < need + 3 and words[first - 1].group(0)[:1].isupper() and \
                    text[words[first - 1].end():words[first].start()].strip(". ") == "":
                first -= 1
                taken.append(words[first])
            start = taken[-1].start()
            if start >= 2 and text[start - 2:start] in ("U.", "S."):     # dotted initials before the name
                start = max(text.rfind(" ", 0, start) + 1, 0)
            return _trim(text, start, taken[0].end())
    match = re.search(re.escape(acronym) + r"\s*\(([^)]+)\)", text)
    if match:
        return _trim(text, match.start(1), match.end(1))
    return None


def _acronym(text: str, qterms: set[str]):
    """The short form in brackets after the words the question names ("... Corridor (EWEC)")."""
    found = [(m.start(1), m.end(1)) for m in re.finditer(r"\(\s*([A-Z][A-Z&\-]{1,9})\s*\)", text)]
    if not found:
        return None
    anchors = _anchor_positions(text, qterms, {})
    return _nearest(found, anchors, text)


def _cue_clause(text: str, cues: tuple[str, ...], qterms: set[str]):
    """The clause opened by the strongest cue ("because" before "in order to" before a bare "to")."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(c) for c in cues) + r")\b", re.IGNORECASE)
    matches = sorted(pattern.finditer(text), key=lambda m: cues.index(m.group(1).lower()))
    for match in matches:
        end_match = _CLAUSE_END.search(text, match.end())
        end = end_match.start() if end_match else len(text)
        clause = text[match.start():end]
        if len(clause.split()) >= 3 and _overlaps_question(clause, qterms) < 0.7:
            return _trim(text, match.start(), end)
    return None


def _residual(text: str, qterms: set[str]):
    """The clause next to the words the question already says."""
    anchors = [m for m, _ in _anchor_matches(text, qterms)]
    if not anchors:
        return None
    last = anchors[-1].end()
    end_match = _CLAUSE_END.search(text, last)
    end = end_match.start() if end_match else len(text)
    segment = text[last:end]
    if _content_words(segment) >= 2:
        return _trim(text, last, end)
    first = anchors[0].start()
    starts = [m.end() for m in _CLAUSE_END.finditer(text, 0, first)]
    begin = starts[-1] if starts else 0
    if _content_words(text[begin:first]) >= 2:
        return _trim(text, begin, first)
    return None


def _predicate(text: str, qterms: set[str]):
    """What someone did: from after the first run of the question's words to the end of the clause."""
    anchors = [m for m, _ in _anchor_matches(text, qterms)]
    if not anchors:
        return None
    run_end = anchors[0].end()
    for m in anchors[1:]:
        if m.start() - run_end > 2:
            break
        run_end = m.end()
    end_match = re.compile(r"[;.!?]\s|[;.!?]$").search(text, run_end)
    end = end_match.start() if end_match else len(text)
    return _trim(text, run_end, end) if _content_words(text[run_end:end]) >= 2 else None


def _content_words(segment: str) -> int:
    return sum(1 for w in _WORD.findall(segment.lower()) if w not in STOPWORDS)


_LEAD = re.compile(r"^(?:[\s,;:“”\"'‘’(]|(?:the|a|an|and|that|which|who|is|was|were|are|however|also|with)\s)+", re.IGNORECASE)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Strip spaces, outer punctuation and leading function words; keep offsets in `text`."""
    seg = text[start:end]
    lead = _LEAD.match(seg)
    if lead and lead.end() < len(seg):
        start += lead.end()
    while end > start and text[end - 1] in " \n\t,;:.!?”\"'’)(“‘":
        if text[end - 1] == "." and re.search(r"\b[A-Z]\.$|\bU\.S\.$", text[start:end]):
            break
        end -= 1
    while start < end and text[start] in " \n\t,;:“”\"'‘(":
        start += 1
    return (start, end) if start < end else None
