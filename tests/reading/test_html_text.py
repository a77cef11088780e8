"""HTML extraction: what is kept and dropped, and time linear in the page's size whatever its shape."""
import pytest

from qa.reading.html import html_to_text
from scaling import growth



@pytest.mark.parametrize("shape", [
    lambda n: "<p>a</p>" * n,                                  # siblings: 25,000 took 37 s with a tree
    lambda n: "<div>" * n + "deep" + "</div>" * n,             # nesting: 200,000 kept a thread busy for minutes
    lambda n: "<div><nav>" * n + "x",                          # unclosed, dropped elements
    lambda n: "<!--" * n,                                      # unterminated constructs the standard library's
    lambda n: "<a" * n,                                        # tokenizer re-scans to the end of the page for
    lambda n: "<?" * n,
    lambda n: "<![CDATA[" * n,
    lambda n: "<table><tr><td>a" * n,
], ids=["siblings", "nested", "unclosed-dropped", "comments", "tag-starts", "pis", "cdata", "cells"])
def test_extraction_time_is_linear_in_the_page_size(shape):
    small, big = shape(2_000), shape(20_000)
    ratio = growth(html_to_text, small, big)
    assert ratio < 30, f"10x the page took {ratio:.0f}x as long"


def test_deep_nesting_keeps_its_text():
    assert html_to_text("<div>" * 200_000 + "deep" + "</div>" * 200_000) == "deep\n"


def test_blocks_become_paragraphs_and_cells_stay_apart():
    page = ("<html><head><title>T</title><style>p{}</style></head><body><nav><a>Home</a></nav>"
            "<h1>Title</h1><p>One &amp; two<br>three</p><table><tr><td>Span</td><td>40&nbsp;m</td></tr>"
            "<tr><th>a<th>b</tr></table><!-- hidden --><script>if (a < b) x = '</p>';</script>"
            "<p>a < b and c > d</p></body></html>")
    assert html_to_text(page) == "Title\n\nOne & two\n\nthree\n\nSpan 40 m\n\na b\n\na < b and c > d\n"


def test_dropped_elements_nest_and_a_head_left_open_ends_at_body():
    assert html_to_text("<nav><nav>x</nav>still nav</nav><p>kept</p>") == "kept\n"
    assert html_to_text("<svg/><p>after a self-closed svg</p>") == "after a self-closed svg\n"
    assert html_to_text("<head><title>T</title><body><p>Body text.</p>") == "Body text.\n"
    assert html_to_text("<p>before</p><script>never closed <p>x</p>") == "before\n"
    assert html_to_text("<p>before</p><!-- never closed <p>x</p>") == "before\n"
    assert html_to_text("<p>x<![CDATA[raw <b>]]>y</p>") == "xraw <b>y\n"
