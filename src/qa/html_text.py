"""Visible text of an HTML page, with scripts and styles dropped."""
from __future__ import annotations

from bs4 import BeautifulSoup

_BLOCKS = ["p", "div", "section", "article", "main", "aside", "li", "h1", "h2", "h3", "h4", "h5", "h6",
           "tr", "blockquote", "pre", "header", "footer", "table", "caption", "ul", "ol", "dl", "dt", "dd",
           "figure", "figcaption", "address", "details", "summary", "fieldset", "legend", "hr", "br"]
_CELLS = ["td", "th"]     # inline, but their words must not run into the next cell's


def html_to_text(html: str) -> str:
    """Offsets of citations from an HTML source point into this extracted text."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "iframe", "svg"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for tag in soup.find_all(_CELLS):
        tag.insert_after(" ")
    lines = [" ".join(line.split()) for line in soup.get_text().split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"
