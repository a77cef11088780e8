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


def resolve(question: str, history) -> str:
    """The question with what it leans on from the earlier question(s).

    A personal pronoun is replaced by the one the earlier question was about ("Where did they meet?"
    -> "Where did Bilawal Bhutto Zardari meet?"), so that both retrieval and the reader see a whole
    question; other follow-ups get the earlier names appended ("there" -> the place). Only names
    travel, not the whole earlier question, so retrieval is not pulled back to the sentence that
    answered it; an earlier question without names is carried whole.
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
        referent = person_referent(list(reversed(context)), groups=groups)
        return question if referent is None else _substitute(question, referent)
    names = [n[:-2] if n.endswith(("’s", "'s")) else n for n in names]      # "Pakistan's" -> "Pakistan"
    if re.search(r"\bthere\b", question, re.IGNORECASE) and not _PERSONAL.search(question):
        names = names[-1:]      # "there": the place, usually named last
    return f"{question} {' '.join(dict.fromkeys(names))}"


_SINGULAR = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)
_GROUP = re.compile(r"\b(they|them|their|theirs)\b", re.IGNORECASE)
# a noun phrase headed by one of these names a person ("Pakistan's first prime minister")
PERSON_NOUNS = frozenset("""minister president premier secretary ambassador envoy king queen prince princess emperor
leader chief general governor senator chancellor chairman chairwoman chair founder author writer poet keeper master
mayor officer commander director ceo head spokesman spokeswoman spokesperson diplomat official husband wife son
daughter father mother brother sister man woman boy girl person child teacher judge captain soldier priest""".split())
_WH = frozenset("which what whose who whom how".split())


def person_referent(turns: list[str], groups: bool = False) -> str | None:
    """Who an earlier question was about, newest question first: its first PERSON entity, else its first noun
    phrase headed by a person noun ("Pakistan's first prime minister"); for "they" also an organisation or a
    people (ORG, NORP). Never a place (GPE, LOC, FAC) or a possessive alone. None when there is no one."""
    from ..reading.entities import get_nlp

    labels = ("PERSON", "ORG", "NORP") if groups else ("PERSON",)
    nlp = get_nlp()
    for turn in turns:
        doc = nlp(turn)
        people = [e.text for e in doc.ents if e.label_ in labels]
        if people:
            return _strip_possessive(people[0])
        for chunk in doc.noun_chunks:
            words = [t for t in chunk if not t.is_punct]
            if not words or words[0].lower_ in _WH or chunk.root.lower_ not in PERSON_NOUNS:
                continue
            return _role(chunk)
    return None


def _role(chunk) -> str:
    """"the" and the role itself: "Pakistan's newly appointed Foreign Minister" -> "the Foreign Minister",
    "Pakistan's first prime minister" -> "the first prime minister". The owner and the participles are left
    out: a whole phrase made the reader take its owner's name for the answer."""
    tokens = list(chunk)
    start = max((i + 1 for i, t in enumerate(tokens) if t.tag_ == "POS"), default=0)
    kept = [t.text for t in tokens[start:] if t.pos_ in ("ADJ", "NOUN", "PROPN", "NUM")]
    return "the " + " ".join(kept or [chunk.root.text])


def _strip_possessive(text: str) -> str:
    return text[:-2] if text.endswith(("’s", "'s")) else text


_POSSESSIVE = {"his", "their", "theirs", "hers"}


def _substitute(question: str, name: str) -> str:
    """The first personal pronoun replaced by the name ("his" -> "X's")."""
    def replace(match: re.Match) -> str:
        word = match.group(0).lower()
        return f"{name}'s" if word in _POSSESSIVE else name
    return _PERSONAL.sub(replace, question, count=1)
