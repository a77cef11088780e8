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
        # "he", "they": the one the earlier question was about, usually named first ("Pakistan's" in
        # "Pakistan's foreign minister" only qualifies the one meant)
        referent = [n for n in names if not n.endswith(("’s", "'s"))][:1] or names[:1]
        return _substitute(question, referent[0])
    if re.search(r"\bthere\b", question, re.IGNORECASE) and not _PERSONAL.search(question):
        names = names[-1:]      # "there": the place, usually named last
    return f"{question} {' '.join(names)}"


_POSSESSIVE = {"his", "their", "theirs", "hers"}


def _substitute(question: str, name: str) -> str:
    """The first personal pronoun replaced by the name ("his" -> "X's")."""
    def replace(match: re.Match) -> str:
        word = match.group(0).lower()
        return f"{name}'s" if word in _POSSESSIVE else name
    return _PERSONAL.sub(replace, question, count=1)
