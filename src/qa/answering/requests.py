"""What a question request may hold: one contract for the JSON API, the chat and `qa ask --batch`.

A request is a JSON object `{"question": str, "history": [{"role": str, "content": ...}], "id": str}`
(history and id optional). Everything here is checked before any answering work is done, and every
refusal is a `RequestError` whose message is one readable line:

- the raw text: at most MAX_BODY_BYTES, valid UTF-8, JSON nested at most MAX_JSON_DEPTH deep;
- every string: no unpaired UTF-16 surrogates (JSON "\\ud800" decodes to one, and it cannot be
  encoded back to UTF-8 for the reply);
- question: text (its length and emptiness are `qa.answering.ask.validate_question`'s to judge);
- history: a list of at most MAX_HISTORY_MESSAGES objects with a string role and a content that is
  text, a list of text blocks ({"type": "text", "text": ...}) or one such block; a user turn's text is
  at most MAX_TURN_CHARS (the question limit: it was a question), any other turn's MAX_OTHER_TURN_CHARS;
- id: text of at most MAX_ID_CHARS.

Only the last USED_USER_TURNS user turns can matter for a follow-up question, so `AskInput.history`
keeps just those, as plain text: whatever is glued onto a question and echoed back as
`resolved_question` is bounded by (USED_USER_TURNS + 1) x MAX_TURN_CHARS.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

from .ask import MAX_QUESTION_CHARS
from .followup import MAX_TURN_CHARS as _FOLLOWUP_TURN_CHARS, MAX_USED_TURNS

MAX_BODY_BYTES = 1024 * 1024         # one request (or one --batch line): 200 full turns fit
MAX_JSON_DEPTH = 8                   # {"history": [{"content": [{"text": ...}]}]} is 5 deep
MAX_HISTORY_MESSAGES = 200
MAX_TURN_CHARS = MAX_QUESTION_CHARS  # a user turn was a question
MAX_OTHER_TURN_CHARS = 4_000         # an assistant turn: an answer, perhaps with its cited sentences
MAX_ROLE_CHARS = 32
MAX_ID_CHARS = 200
USED_USER_TURNS = MAX_USED_TURNS     # the follow-up resolution looks back this far at most
assert _FOLLOWUP_TURN_CHARS >= MAX_TURN_CHARS

_MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class RequestError(ValueError):
    """A request that cannot be answered as sent; the message says why in one line."""

    def __init__(self, message: str, id: str | None = None, question: str | None = None):
        super().__init__(message)
        self.id = id                   # the request's id and question when they were readable
        self.question = question


@dataclass
class AskInput:
    question: str
    history: list[dict]              # the last USED_USER_TURNS user turns: [{"role": "user", "content": str}]
    id: str | None = None


# ---------------------------------------------------------------- raw text

def decode_body(raw: bytes, what: str = "the request body") -> str:
    if len(raw) > MAX_BODY_BYTES:
        raise RequestError(f"{what} is too large ({len(raw):,} bytes; the limit is {MAX_BODY_BYTES:,})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"{what} is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8") from None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON `text` (strings skipped); cheap, never recursive."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(text: str, what: str = "the request body"):
    """The JSON value of `text`, refusing nesting deeper than MAX_JSON_DEPTH before parsing."""
    if not text.strip():
        raise RequestError(f"{what} is empty; send a JSON object like {{\"question\": \"...\"}}")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise RequestError(f"{what} nests arrays/objects more than {MAX_JSON_DEPTH} deep; "
                           "send an object like {\"question\": \"...\", \"history\": [...]}")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise RequestError(f"{what} is not valid JSON{where}; send an object like {{\"question\": \"...\"}}") \
            from None
    except ValueError:      # an integer literal over Python's int-string limit (4,300 digits)
        raise RequestError(f"{what} holds a number too long to read (over {_MAX_INT_DIGITS:,} digits); "
                           "send an object like {\"question\": \"...\"}") from None


# ---------------------------------------------------------------- values

def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def printable(text: str) -> str:
    """`text` with unpaired surrogates replaced by U+FFFD, so it can be shown or encoded."""
    return _SURROGATE.sub("\ufffd", text)


def check_text(value, where: str, limit: int | None = None) -> str:
    """`value` if it is a string without unpaired surrogates (and at most `limit` characters)."""
    if not isinstance(value, str):
        raise RequestError(f"'{where}' must be text (a JSON string), not {_kind(value)}")
    match = _SURROGATE.search(value)
    if match:
        raise RequestError(f"'{where}' holds an unpaired UTF-16 surrogate (\\u{ord(match.group()):04x} at "
                           f"character {match.start() + 1}); send valid Unicode text")
    if limit is not None and len(value) > limit:
        raise RequestError(f"'{where}' is too long ({len(value):,} characters; the limit is {limit:,})")
    return value


def message_text(content, where: str) -> str:
    """The text of one history message's content: a string, a text block, or a list of text blocks."""
    if isinstance(content, str):
        return check_text(content, where)
    if isinstance(content, dict):
        return _block_text(content, where)
    if isinstance(content, list):
        return " ".join(_block_text(block, f"{where}.{n}") if isinstance(block, dict) else check_text(block, f"{where}.{n}")
                        for n, block in enumerate(content))
    raise RequestError(f"'{where}' must be text or a list of text blocks like "
                       f"[{{\"type\": \"text\", \"text\": \"...\"}}], not {_kind(content)}")


def _block_text(block: dict, where: str) -> str:
    text = block.get("text", "")
    if text is None:
        return ""
    return check_text(text, f"{where}.text")


def check_history(history) -> list[dict]:
    """The user turns that matter (the last USED_USER_TURNS), as plain text; RequestError if malformed."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise RequestError(f"'history' must be a list of {{\"role\", \"content\"}} objects, not {_kind(history)}")
    if len(history) > MAX_HISTORY_MESSAGES:
        raise RequestError(f"'history' is too long ({len(history):,} messages; the limit is "
                           f"{MAX_HISTORY_MESSAGES}; only the last {USED_USER_TURNS} questions are used)")
    turns = []
    for n, message in enumerate(history):
        where = f"history.{n}"
        if not isinstance(message, dict):
            raise RequestError(f"'{where}' must be an object like {{\"role\": \"user\", \"content\": \"...\"}}, "
                               f"not {_kind(message)}")
        if "role" not in message or "content" not in message:
            raise RequestError(f"'{where}' needs both 'role' and 'content'")
        role = check_text(message["role"], f"{where}.role", MAX_ROLE_CHARS)
        text = message_text(message["content"], f"{where}.content")
        limit = MAX_TURN_CHARS if role == "user" else MAX_OTHER_TURN_CHARS
        if len(text) > limit:
            kind = "a user turn (a question)" if role == "user" else "a turn"
            raise RequestError(f"'{where}.content' is too long for {kind} ({len(text):,} characters; the limit "
                               f"is {limit:,})")
        if role == "user" and text.strip():
            turns.append({"role": "user", "content": text})
    return turns[-USED_USER_TURNS:]


def ask_input(data) -> AskInput:
    """Check a decoded request object; the contract's one definition."""
    if not isinstance(data, dict):
        raise RequestError(f"the request must be a JSON object like {{\"question\": \"...\"}}, not {_kind(data)}")
    raw_id = data.get("id")
    id = raw_id if isinstance(raw_id, str) and not has_surrogate(raw_id) and len(raw_id) <= MAX_ID_CHARS else None
    raw_question = data.get("question")
    shown = printable(raw_question[:MAX_QUESTION_CHARS]) if isinstance(raw_question, str) else None
    try:
        if raw_id is not None:
            check_text(raw_id, "id", MAX_ID_CHARS)
        if "question" not in data:
            raise RequestError("'question' is required")
        question = check_text(raw_question, "question")
        history = check_history(data.get("history"))
    except RequestError as exc:
        raise RequestError(str(exc), id=id, question=shown) from None
    return AskInput(question, history, id)


def parse_request(raw: bytes | str, what: str = "the request body") -> AskInput:
    """Bytes or text of one JSON request -> AskInput, or RequestError."""
    text = decode_body(raw, what) if isinstance(raw, bytes) else raw
    if len(text) > MAX_BODY_BYTES:
        raise RequestError(f"{what} is too large ({len(text):,} characters; the limit is {MAX_BODY_BYTES:,})")
    return ask_input(parse_json(text, what))


def _kind(value) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)
