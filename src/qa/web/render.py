"""HTML for the chat: answers, the source panel and the header.

Every piece of text from the document or the user goes through `esc()`. Chat messages are one line of
HTML inside a single <div>: Markdown leaves an HTML block untouched until a blank line, so document
text such as `*`, `_` or backticks is never read as Markdown.
"""
from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import PurePath

from ..answering.requests import printable

DOES_NOT_SAY = "The document does not say."
SNIPPET_CHARS = 220
WHOLE_SENTENCE = 0.9     # an answer this share of its sentence is not marked inside it


def esc(text) -> str:
    """Escaped, whitespace-normalised, and encodable (an unpaired surrogate becomes U+FFFD)."""
    return escape(" ".join(printable(str(text or "")).split()), quote=True)


# ---------------------------------------------------------------- chat messages

def question_html(question: str) -> str:
    """The user's message as shown in the chat: always plain text."""
    return f'<div class="qa-q">{esc(question)}</div>'


def tier_of(answer: dict) -> str:
    """"confident", "unsure" or "none" (qa.types.TIERS), as `ask()` set it; an answer without one is unsure."""
    tier = answer.get("tier")
    if answer["abstained"] or tier == "none":
        return "none"
    return tier if tier in ("confident", "unsure") else "unsure"


# What each tier tells a person to do; the chat colours each its own way (assets.py: .qa-tier-*)
TIER_LINES = {
    "confident": "✓ The document answers this: the cited sentence says so.",
    "unsure": "? Unsure: the document may answer this. Read the cited sentence before relying on it.",
    "none": "The document does not say; the closest passages are shown when there are any close ones.",
}


def answer_html(answer: dict, turn: int) -> str:
    """The bot's message, by tier: a confident answer (short answer, quoted cited sentences with numbered
    links); an unsure one ("The document may answer this — the closest passage is [1]", the same span and
    citations, marked as unsure); or none ("The document does not say.")."""
    tier = tier_of(answer)
    if tier == "none":
        return abstention_html(answer, turn)
    parts = [f'<div class="qa-msg qa-tier-{tier}" data-turn="{turn}" data-tier="{tier}">']
    if tier == "unsure":
        parts.append(f'<p class="qa-lead">The document may answer this — the closest passage is '
                     f'{cite_link(turn, 1)}:</p>')
    parts.append(f'<p class="qa-short{" qa-short-long" if len(answer["answer"]) > 80 else ""}">'
                 f'{esc(answer["answer"])}</p>')
    if answer.get("resolved_question"):
        parts.append(f'<p class="qa-understood">Understood as: “{esc(answer["resolved_question"])}”</p>')
    parts.append('<ol class="qa-cites">')
    mark = answer_in_citation(answer)
    for c in answer["citations"]:
        quoted = marked_text(c["text"], mark if c["n"] == 1 else None)
        where = place(c, c)
        parts.append(
            f'<li>{cite_link(turn, c["n"])} “{quoted}” '
            f'<span class="qa-loc" title="{esc(c["source"])}">{esc(short_name(c["source"]))}, '
            f'{esc(where) + ", " if where else ""}characters {c["start"]}–{c["end"]}</span></li>')
    parts.append("</ol>")
    parts.append(tier_html(tier, answer["confidence"]))
    parts.append("</div>")
    return "".join(parts)


def abstention_html(answer: dict, turn: int) -> str:
    parts = [f'<div class="qa-msg qa-abstained qa-tier-none" data-turn="{turn}" data-tier="none">',
             f'<p class="qa-short">{DOES_NOT_SAY}</p>']
    if answer.get("resolved_question"):
        parts.append(f'<p class="qa-understood">Understood as: “{esc(answer["resolved_question"])}”</p>')
    if answer.get("passages"):
        parts.append('<p class="qa-closest">The closest passages:</p><ol class="qa-cites">')
        for k, p in enumerate(answer["passages"], 1):
            parts.append(f'<li>{cite_link(turn, k, kind="passage")} {esc(snippet(p["text"]))} '
                         f'<span class="qa-loc" title="{esc(p["source"])}">{esc(short_name(p["source"]))}, '
                         f'characters {p["start"]}–{p["end"]}</span></li>')
        parts.append("</ol>")
    else:
        parts.append('<p class="qa-closest">No passage of the indexed documents is close to this question.</p>')
    parts.append("</div>")
    return "".join(parts)


def error_html(message: str) -> str:
    message = str(message).strip()
    message = message[:1].upper() + message[1:]
    if message and message[-1] not in ".!?":
        message += "."
    return f'<div class="qa-msg qa-error"><p>⚠ {esc(message)}</p></div>'


def cite_link(turn: int, n: int, kind: str = "cite") -> str:
    target = f"{kind}-{turn}-{n}"
    return f'<a class="qa-cite" href="#{target}" title="Show in the source panel">[{n}]</a>'


def tier_html(tier: str, confidence: float) -> str:
    """What the tier means for the reader, in words; the answer model's score only as a tooltip."""
    return (f'<p class="qa-tier qa-tier-line-{tier}" title="answer model score {round(confidence * 100)}%">'
            f'{esc(TIER_LINES[tier])}</p>')


def answer_in_citation(answer: dict) -> tuple[int, int] | None:
    """Where the short answer lies inside citation 1's (whitespace-normalised) text."""
    if answer["abstained"] or not answer["citations"] or not answer["answer"]:
        return None
    first = answer["citations"][0]
    text, short = first["text"], answer["answer"]
    hits, at = [], text.find(short)
    while at != -1:
        hits.append(at)
        at = text.find(short, at + 1)
    if not hits:
        return None
    if len(short) >= WHOLE_SENTENCE * len(text):
        return None     # the answer is the sentence: the sentence highlight says it all
    raw_offset = (answer.get("answer_start") or first["start"]) - first["start"]
    best = min(hits, key=lambda h: abs(h - raw_offset))   # normalising only shortens: the nearest is it
    return best, best + len(short)


def marked_text(text: str, mark: tuple[int, int] | None) -> str:
    if not mark:
        return esc(text)
    start, end = mark
    return f"{escape(text[:start])}<mark>{escape(text[start:end])}</mark>{escape(text[end:])}"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit] + " …"


def place(first: dict, last: dict) -> str:
    """Where cited sentences (first to last) lie beyond their characters: "p. 12", "pp. 12–13" for a PDF,
    the heading above them for a Word file; "" for other sources."""
    page, end = first.get("page"), last.get("end_page") or last.get("page")
    if page:
        return f"p. {page}" if not end or end == page else f"pp. {page}–{end}"
    heading = first.get("heading")
    return f"“{heading}”" if heading else ""


def short_name(source: str) -> str:
    return PurePath(source).name or source


# ---------------------------------------------------------------- source panel

def source_panel_html(turns: list[dict]) -> str:
    """All answered turns, newest first and open; each shows its cited sentences in context."""
    title = ('<div class="qa-panel-title"><strong>Sources</strong> — cited sentences '
             '<span class="qa-hl">highlighted</span>, the answer <mark>marked</mark></div>')
    if not turns:
        body = ('<p class="qa-empty">Ask a question: the passage that answers it appears here. '
                'Click a citation such as [1] in an answer to bring its sentence into view.</p>')
    else:
        body = "".join(turn_html(t["turn"], t["question"], t["answer"], latest=(i == 0))
                       for i, t in enumerate(reversed(turns)))
    return f'<div class="qa-panel-wrap">{title}<div class="qa-panel">{body}</div></div>'


def turn_html(turn: int, question: str, answer: dict, latest: bool) -> str:
    body = abstained_sources_html(answer, turn) if tier_of(answer) == "none" else cited_sources_html(answer, turn)
    return (f'<details class="qa-turn" id="turn-{turn}"{" open" if latest else ""}>'
            f'<summary><span class="qa-turn-n">Q{turn}</span> {esc(question)}</summary>{body}</details>')


def cited_sources_html(answer: dict, turn: int) -> str:
    """Each run of adjacent cited sentences with the sentence before and after it."""
    mark = answer_in_citation(answer)
    out = []
    for group in adjacent_groups(answer["citations"]):
        first, last = group[0], group[-1]
        sentences = []
        for c in group:
            text = marked_text(c["text"], mark if c["n"] == 1 else None)
            sentences.append(f'<span class="qa-hl" id="cite-{turn}-{c["n"]}">'
                             f'<sup class="qa-n">{c["n"]}</sup>{text}</span>')
        before = f'<span class="qa-ctx">{esc(first["before"])}</span> ' if first.get("before") else ""
        after = f' <span class="qa-ctx">{esc(last["after"])}</span>' if last.get("after") else ""
        where = place(first, last)
        out.append(f'<div class="qa-src" title="{esc(first["source"])}">{esc(short_name(first["source"]))} · '
                   f'{esc(where) + " · " if where else ""}characters {first["start"]}–{last["end"]}</div>'
                   f'<p class="qa-passage">{before}{" ".join(sentences)}{after}</p>')
    return "".join(out)


def abstained_sources_html(answer: dict, turn: int) -> str:
    closest = " The closest passages:" if answer.get("passages") else " No passage is close to the question."
    out = [f'<p class="qa-nosay">{DOES_NOT_SAY}{closest}</p>']
    for k, p in enumerate(answer.get("passages", []), 1):
        out.append(f'<div class="qa-src" title="{esc(p["source"])}">[{k}] {esc(short_name(p["source"]))} · '
                   f'characters {p["start"]}–{p["end"]}</div>'
                   f'<p class="qa-passage qa-closest-passage" id="passage-{turn}-{k}">{esc(p["text"])}</p>')
    return "".join(out)


def adjacent_groups(citations: list[dict]) -> list[list[dict]]:
    """Citations grouped into runs of consecutive sentences of one source, in document order."""
    groups: list[list[dict]] = []
    for c in sorted(citations, key=lambda c: (c["source"], c["sentence"])):
        if groups and groups[-1][-1]["source"] == c["source"] and c["sentence"] - groups[-1][-1]["sentence"] == 1:
            groups[-1].append(c)
        else:
            groups.append([c])
    return groups


# ---------------------------------------------------------------- the "Add a document" panel

STATUS_ICONS = {"ok": "✓", "error": "⚠", "busy": "⏳", "info": ""}


def status_html(message: str, kind: str = "info", action: str = "") -> str:
    """The upload panel's status line: one escaped sentence, styled by kind (ok, error, busy, info).

    `action` ("check", "rebuild") is recorded as data-action, so a test can tell whose message it is.
    """
    kind = kind if kind in STATUS_ICONS else "info"
    message = str(message).strip()
    message = message[:1].upper() + message[1:]
    if message and message[-1] not in ".!?…":
        message += "."
    icon = f"{STATUS_ICONS[kind]} " if STATUS_ICONS[kind] else ""
    role = ' role="alert"' if kind == "error" else ' role="status"'
    data = f' data-action="{esc(action)}"' if action else ""
    return f'<p class="qa-status qa-status-{kind}"{role}{data}>{icon}{esc(message)}</p>'


# ---------------------------------------------------------------- header

def header_html(summary: dict) -> str:
    """One line naming the indexed document(s), their size and sentences, and when the index was built."""
    sources = summary.get("sources", [])
    counts = summary.get("counts", {})
    names = ", ".join(f'<span class="qa-doc" title="{esc(s["source"])}">{esc(short_name(s["source"]))}</span>'
                      for s in sources[:4])
    if len(sources) > 4:
        names += f" and {len(sources) - 4} more"
    size = human_size(sum(s.get("bytes") or 0 for s in sources))
    docs = "document" if len(sources) == 1 else "documents"
    title = "Ask the document" if len(sources) == 1 else "Ask the documents"
    return (f'<div class="qa-header"><h1>{title}</h1>'
            f'<p>{len(sources)} {docs}: {names} · {size} · {counts.get("sentences", 0):,} sentences · '
            f'index built {esc(built_when(summary.get("built_at")))}</p>'
            f'<p class="qa-how">Every answer is copied from the text and cited; when the text does not say, '
            f'the answer says so. JSON API: <a href="/docs" target="_blank">/docs</a></p></div>')


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 ** 2:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 ** 2:.1f} MB"


def built_when(iso: str | None) -> str:
    if not iso:
        return "at an unknown time"
    try:
        return datetime.fromisoformat(iso).strftime("%d %b %Y, %H:%M %Z").strip().rstrip(",")
    except ValueError:
        return iso
