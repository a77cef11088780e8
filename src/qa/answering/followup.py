"""Resolve a follow-up question against the conversation so far."""
from __future__ import annotations

import re

_CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|then|so)\b", re.IGNORECASE)
_PERSONAL = re.compile(r"\b(he|she|him|her|his|hers|they|them|their|theirs)\b", re.IGNORECASE)
_DEICTIC = re.compile(r"\b(it|its|there|that|this|those|these|then)\b", re.IGNORECASE)
_NAMES = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w’'\-]*(?:\s+(?:of\s+)?[A-Z][\w’'\-]*)*|\b\d{4}\b")

# Bounds on what a conversation can add to a question, whoever calls: only the last few questions can
# matter, and each was a question (qa.answering.ask.MAX_QUESTION_CHARS). qa.answering.requests refuses longer input
# before it gets here; these keep direct callers of ask() bounded too.
MAX_USED_TURNS = 10
MAX_TURN_CHARS = 1000
MAX_CONTENT_DEPTH = 3        # content -> list of blocks -> block


def message_text(content, depth: int = 0) -> str:
    """Text of a chat message whether plain or a list of content blocks (Gradio 6)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, (list, tuple)) and depth < MAX_CONTENT_DEPTH:
        return " ".join(message_text(part, depth + 1) for part in content)
    return ""


def user_turns(history) -> list[str]:
    """The last MAX_USED_TURNS non-empty user turns, each cut to MAX_TURN_CHARS."""
    turns = []
    for message in reversed(history if isinstance(history, (list, tuple)) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = message_text(message.get("content"))[:MAX_TURN_CHARS].strip()
            if text:
                turns.append(text)
                if len(turns) == MAX_USED_TURNS:
                    break
    return turns[::-1]


def is_follow_up(question: str) -> bool:
    """Starts as a continuation, or leans on a pronoun ("he", or "it" with no name of its own)."""
    if _CONTINUATION.search(question) or _PERSONAL.search(question):
        return True
    return bool(_DEICTIC.search(question)) and not _NAMES.search(question)


def resolve(question: str, history, known: "KnownNames | None" = None) -> str:
    """The question with what it leans on from the earlier question(s).

    A personal pronoun is replaced by the one the earlier question was about ("Where did they meet?"
    -> "Where did Bilawal Bhutto Zardari meet?"), so that both retrieval and the reader see a whole
    question; other follow-ups get the earlier names appended ("there" -> the place). Only names
    travel, not the whole earlier question, so retrieval is not pulled back to the sentence that
    answered it; an earlier question without names is carried whole. `known` (known_names(index)) tells
    a person from a place: a personal pronoun resolves to a person or is left alone.
    """
    if not is_follow_up(question):
        return question
    context = []
    for turn in reversed(user_turns(history)):
        context.insert(0, turn)
        if not is_follow_up(turn):
            break
    if not context:
        return question
    names = list(dict.fromkeys(n for turn in context for n in _NAMES.findall(turn) if n not in question))
    if not names:
        return " ".join(context + [question])
    if _PERSONAL.search(question) and not _DEICTIC.search(question):
        # "he", "they": the person the earlier question was about; never a place or a bare possessive
        # ("Who was Pakistan's first prime minister?" -> "when did he visit?" once became "when did Pakistan's
        # visit?"). Without one the pronoun is left alone.
        groups = bool(_GROUP.search(question)) and not _SINGULAR.search(question)
        referent = person_referent(list(reversed(context)), known, groups)
        return question if referent is None else _substitute(question, referent)
    names = [n[:-2] if n.endswith(("’s", "'s")) else n for n in names]      # "Pakistan's" -> "Pakistan"
    if re.search(r"\bthere\b", question, re.IGNORECASE) and not _PERSONAL.search(question):
        names = names[-1:]      # "there": the place, usually named last
    return f"{question} {' '.join(dict.fromkeys(names))}"


_SINGULAR = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(they|them|their|theirs)\b", re.IGNORECASE)
# A person named by a role: up to three qualifiers and a person noun ("first prime minister", "Foreign Minister").
_QUALIFIERS = ("first|second|third|last|new|former|current|then|late|acting|interim|foreign|prime|vice|deputy|chief|"
               "finance|defence|defense|interior|home|head|senior|junior|supreme|general|top")
_ROLE_NOUNS = ("minister|president|premier|secretary|ambassador|envoy|king|queen|prince|princess|emperor|leader|"
               "governor|senator|chancellor|chairman|chairwoman|founder|author|writer|poet|keeper|mayor|officer|"
               "commander|director|spokesman|spokeswoman|spokesperson|diplomat|husband|wife|son|daughter|father|"
               "mother|brother|sister|man|woman|boy|girl|teacher|judge|captain|soldier|priest|general|chief")
_ROLE = re.compile(rf"\b((?:(?:{_QUALIFIERS})\s+){{0,3}}(?:{_ROLE_NOUNS}))\b", re.IGNORECASE)
_WORDS = re.compile(r"[\w’'-]+")
PERSON_LABELS = ("PERSON",)
GROUP_LABELS = ("PERSON", "ORG", "NORP")
PLACE_LABELS = ("GPE", "LOC", "FAC")


class KnownNames:
    """What the indexed documents call each name: the entities spaCy found in their sentences at index time,
    so that no model is loaded to resolve a question ("Bhutto Zardari": PERSON; "Pakistan": GPE)."""

    def __init__(self, sentences):
        self._labels: dict[tuple[str, ...], dict[str, int]] = {}
        for sentence in sentences:
            for label, start, end in sentence.entities:
                if label in GROUP_LABELS or label in PLACE_LABELS:
                    key = _key(sentence.text[start:end])
                    if key:
                        counts = self._labels.setdefault(key, {})
                        counts[label] = counts.get(label, 0) + 1

    def kind(self, name: str, labels: tuple = PERSON_LABELS) -> bool | None:
        """True when the documents name it (or a part of it, or a name it is part of) as one of `labels`
        more often than as a place; False when as a place; None when they never name it."""
        key = _key(name)
        wanted = place = 0
        for known, counts in self._labels.items():
            if known == key or _within(known, key) or _within(key, known):
                wanted += sum(n for label, n in counts.items() if label in labels)
                if known == key:
                    place += sum(n for label, n in counts.items() if label in PLACE_LABELS)
        if wanted == place == 0:
            return None
        return wanted > place


def known_names(index) -> KnownNames:
    """The index's KnownNames, made once per loaded index."""
    known = index.__dict__.get("_known_names")
    if known is None:
        known = index.__dict__["_known_names"] = KnownNames(index.sentences)
    return known


def _key(text: str) -> tuple[str, ...]:
    words = [w.lower() for w in _WORDS.findall(_strip_possessive(" ".join(text.split())))]
    return tuple(w for w in words if w not in ("the", "a", "an"))


def _within(part: tuple, whole: tuple) -> bool:
    n = len(part)
    return 0 < n < len(whole) and any(whole[i:i + n] == part for i in range(len(whole) - n + 1))


def person_referent(turns: list[str], known: KnownNames | None = None, groups: bool = False) -> str | None:
    """Who an earlier question was about, newest question first: a name the documents call a person (for
    "they" also an organisation or a people), else a person named by a role ("Pakistan's first prime
    minister" -> "the first prime minister"). Never a place, never a possessive alone; None when there is no
    one. Without `known` (no index at hand) any name that is not a possessive counts as a person."""
    labels = GROUP_LABELS if groups else PERSON_LABELS
    for turn in turns:
        for name in _NAMES.findall(turn):
            if name.endswith(("’s", "'s")) or _ROLE.fullmatch(name):
                continue
            if (known.kind(name, labels) if known is not None else True):
                return name
        role = next((m for m in _ROLE.finditer(turn) if not _after_wh(turn, m.start())), None)
        if role is not None:
            return "the " + role.group(1)
    return None


def _after_wh(text: str, at: int) -> bool:
    """The role is what a wh-word asks for ("Which president ...?"), not someone already named."""
    before = text[:at].split()
    return bool(before) and before[-1].lower() in ("which", "what", "whose")


def _strip_possessive(text: str) -> str:
    return text[:-2] if text.endswith(("’s", "'s")) else text


_POSSESSIVE = {"his", "their", "theirs", "hers"}


def _substitute(question: str, name: str) -> str:
    """The first personal pronoun replaced by the name ("his" -> "X's")."""
    def replace(match: re.Match) -> str:
        word = match.group(0).lower()
        return f"{name}'s" if word in _POSSESSIVE else name
    return _PERSONAL.sub(replace, question, count=1)
