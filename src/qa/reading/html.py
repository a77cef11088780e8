"""Visible text of an HTML page, with scripts and styles dropped.

The page is read as one pass over its tags and text, never built into a tree, in time linear in its size:
with a tree (BeautifulSoup) every paragraph break inserted cost a scan of the element's siblings (25,000
`<p>` took 37 s, 50,000 took 193 s) and 200,000 nested `<div>` kept a thread busy for minutes. The standard
library's tokenizer is no way out: it re-scans to the end of the page for every unterminated `<!--`, `<a`,
`</` or `<?` (50,000 of them took 28 s). Here every construct ends at its terminator or, as in a browser,
at the end of the page, so no character is scanned twice; the only state kept is one counter per dropped
element type, whatever the nesting depth.
"""
from __future__ import annotations

import html as _html
import re

_BLOCKS = frozenset(["p", "div", "section", "article", "main", "aside", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                     "tr", "blockquote", "pre", "header", "footer", "table", "caption", "ul", "ol", "dl", "dt",
                     "dd", "figure", "figcaption", "address", "details", "summary", "fieldset", "legend", "hr",
                     "br"])
_CELLS = frozenset(["td", "th"])     # inline, but their words must not run into the next cell's
_DROPPED = frozenset(["script", "style", "noscript", "template", "head", "nav", "iframe", "svg"])
_RAW = frozenset(["script", "style"])     # their content is not markup: it ends only at their end tag
_PARAGRAPH = "\n\n"

# One alternative per construct; each ends at its terminator or at the end of the page (\Z), and the
# possessive quantifiers never give back what they matched, so a match costs the characters it consumes.
_TOKEN = re.compile(r"""
    (?P<text>[^<]++|<(?![a-zA-Z!?/]))
  | <!--(?:-?>|.*?(?:--!?>|\Z))                                   # comment
  | <!\[CDATA\[(?P<cdata>.*?)(?:\]\]>|\Z)
  | </(?P<end>[a-zA-Z][^\t\n\f\r />]*+)[^>]*+(?:>|\Z)              # end tag
  | <(?P<start>[a-zA-Z][^\t\n\f\r />]*+)(?P<attrs>(?:[^>"']++|"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z))*+)(?:>|\Z)
  | <[!?/][^>]*+(?:>|\Z)                                          # doctype, processing instruction, bogus
""", re.S | re.X)
_RAW_END = {tag: re.compile(rf"</{tag}(?=[\t\n\f\r />]|\Z)", re.I) for tag in _RAW}
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Offsets of citations from an HTML source point into this extracted text."""
    parts: list[str] = []
    open_dropped = dict.fromkeys(_DROPPED, 0)      # how deep inside each dropped element we are
    dropping = 0                                   # the sum of open_dropped
    pos, n = 0, len(html)
    while pos < n:
        m = _TOKEN.match(html, pos)
        pos = m.end()
        if m.group("text") is not None or m.group("cdata") is not None:
            if not dropping:
                text = m.group("text")
                parts.append(_html.unescape(text) if text is not None else m.group("cdata"))
            continue
        tag = m.group("start")
        if tag is not None:
            tag = tag.lower()
            closed = m.group("attrs").rstrip().endswith("/")      # <svg/>, <br/>
            if tag in _RAW and not closed:                         # (all dropped, so skipped unread)
                end = _RAW_END[tag].search(html, pos)
                pos = end.start() if end else n                   # the end tag itself is read next
            if tag in _DROPPED and not closed:
                open_dropped[tag] += 1
                dropping += 1
            elif tag == "body" and open_dropped["head"]:         # a page that never closes its head
                dropping -= open_dropped["head"]
                open_dropped["head"] = 0
        else:
            tag = m.group("end")
            if tag is None:
                continue                                          # comment, doctype and the like
            tag = tag.lower()
            if tag in _DROPPED and open_dropped[tag]:
                open_dropped[tag] -= 1
                dropping -= 1
        if tag in _BLOCKS:
            parts.append(_PARAGRAPH)
        elif tag in _CELLS:
            parts.append(" ")
    lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
    return _BLANK_LINES.sub(_PARAGRAPH, "\n".join(lines)).strip() + "\n"
