"""The chat's HTML: escaping, the marked answer, citation anchors (no server, no model)."""
from __future__ import annotations

import re

from qa.web.api import validation_message
from qa.web.render import (DOES_NOT_SAY, adjacent_groups, answer_html, answer_in_citation, error_html,
                           header_html, place, question_html, source_panel_html)

EVIL = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'&'


def citation(n=1, sentence=6, text="Pakistan signed the agreement in May 1954.", start=900, **extra):
    return {"n": n, "source": "data/a.txt", "sentence": sentence, "start": start, "end": start + len(text),
            "text": text, "before": "Before it.", "after": "After it.", **extra}


def answer(**extra):
    base = {"id": None, "question": "When?", "answer": "May 1954", "abstained": False, "confidence": 0.9,
            "citations": [citation()], "passages": [], "answer_source": "data/a.txt",
            "answer_start": 900 + 33, "answer_end": 900 + 41, "resolved_question": None}
    return {**base, **extra}


def abstention(**extra):
    passage = {"source": "data/a.txt", "start": 0, "end": 50, "text": "A passage " * 40, "score": 0.4}
    return answer(**{"answer": "", "abstained": True, "confidence": 0.1, "citations": [], "passages": [passage, passage],
                     "answer_source": None, "answer_start": None, "answer_end": None, **extra})


def no_raw_tags(html: str) -> bool:
    return "<img" not in html and "<script" not in html


def test_question_is_escaped_and_one_line():
    html = question_html(EVIL + "\n\n**not markdown**")
    assert no_raw_tags(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&quot;&#x27;&amp;" in html
    assert "\n" not in html


def test_answer_marks_the_short_answer_inside_citation_one():
    html = answer_html(answer(), turn=3)
    assert '<p class="qa-short">May 1954</p>' in html
    assert "in <mark>May 1954</mark>." in html
    assert '<a class="qa-cite" href="#cite-3-1"' in html and ">[1]</a>" in html
    assert 'data-tier="unsure"' in html and "may answer this" in html and "90%" in html    # no tier: unsure
    assert "\n" not in html


def test_marking_picks_the_occurrence_nearest_the_answer_offset():
    text = "In 1954 it was signed, and in 1954 it was ratified."
    a = answer(answer="1954", citations=[citation(text=text)], answer_start=900 + text.rindex("1954"))
    assert answer_in_citation(a) == (text.rindex("1954"), text.rindex("1954") + 4)


def test_an_answer_that_is_the_whole_sentence_is_not_marked():
    text = "Pakistan signed the agreement in May 1954."
    assert answer_in_citation(answer(answer=text, citations=[citation(text=text)], answer_start=900)) is None


def test_document_text_is_escaped_everywhere():
    evil = citation(text=f"It said {EVIL} in May 1954.", before=EVIL, after=EVIL, source=EVIL)
    a = answer(citations=[evil], answer_source=EVIL, resolved_question=EVIL, question=EVIL)
    for html in (answer_html(a, 1), source_panel_html([{"turn": 1, "question": EVIL, "answer": a}]),
                 answer_html(abstention(question=EVIL), 2)):
        assert no_raw_tags(html), html
    header = header_html({"sources": [{"source": EVIL, "bytes": 10}], "counts": {"sentences": 1},
                          "built_at": EVIL})
    assert no_raw_tags(header)


def test_each_tier_reads_as_what_to_do_and_is_coloured_by_it():
    """Issue 20, item 13: the tier, not a percentage scale, decides the words and the colour."""
    confident = answer_html(answer(tier="confident", confidence=0.57), turn=1)
    unsure = answer_html(answer(tier="unsure", confidence=0.91), turn=1)
    none = answer_html(abstention(tier="none"), turn=1)
    assert 'data-tier="confident"' in confident and "The document answers this" in confident
    assert "may answer" not in confident and "qa-tier-line-confident" in confident
    assert unsure.index("The document may answer this — the closest passage is") < unsure.index("qa-short")
    assert '<a class="qa-cite" href="#cite-1-1"' in unsure and "qa-tier-line-unsure" in unsure
    assert 'data-tier="none"' in none and DOES_NOT_SAY in none
    for html in (confident, unsure, none):           # the score is a tooltip, never a red "low"
        assert "(low)" not in html and "qa-conf-low" not in html
    from qa.web.assets import CSS
    assert ".qa-tier-line-confident { color: #15803d; }" in CSS and ".qa-tier-line-unsure { color: #b45309; }" in CSS


def test_abstention_without_close_passages_says_none_are_close():
    html = answer_html(abstention(passages=[]), turn=1)
    assert DOES_NOT_SAY in html and "No passage of the indexed documents is close" in html
    panel = source_panel_html([{"turn": 1, "question": "Who won the 2018 World Cup?", "answer": abstention(passages=[])}])
    assert "No passage is close" in panel and "closest passages" not in panel


def test_abstention_says_so_and_links_the_closest_passages():
    html = answer_html(abstention(), turn=2)
    assert DOES_NOT_SAY in html
    assert 'href="#passage-2-1"' in html and 'href="#passage-2-2"' in html
    assert "…" in html                                    # long passages are cut short in the chat
    panel = source_panel_html([{"turn": 2, "question": "Capital of Norway?", "answer": abstention()}])
    assert 'id="passage-2-1"' in panel and "does not say" in panel


def test_source_panel_shows_context_highlight_and_newest_turn_open():
    two = answer(citations=[citation(), citation(n=2, sentence=7, text="It was ratified.", start=943)])
    panel = source_panel_html([{"turn": 1, "question": "First?", "answer": answer()},
                               {"turn": 2, "question": "Second?", "answer": two}])
    assert panel.index('id="turn-2"') < panel.index('id="turn-1"')
    assert re.search(r'<details class="qa-turn" id="turn-2" open>', panel)
    assert re.search(r'<details class="qa-turn" id="turn-1">', panel)
    assert 'id="cite-2-1"' in panel and 'id="cite-2-2"' in panel
    turn2 = panel[panel.index('id="turn-2"'):panel.index('id="turn-1"')]
    assert turn2.count("Before it.") == 1 and turn2.count("After it.") == 1   # one passage for adjacent ones


def test_adjacent_groups():
    cites = [citation(n=1, sentence=7), citation(n=2, sentence=6), citation(n=3, sentence=20)]
    assert [[c["n"] for c in g] for g in adjacent_groups(cites)] == [[2, 1], [3]]


def test_error_message_is_readable_and_escaped():
    html = error_html("the question is empty; type a question")
    assert "The question is empty; type a question." in html
    assert no_raw_tags(error_html(EVIL))


def test_header_names_documents_size_and_build_time():
    html = header_html({"sources": [{"source": "data/pak.txt", "bytes": 8456}], "counts": {"sentences": 54},
                        "built_at": "2026-11-27T18:36:30+00:00"})
    assert "pak.txt" in html and "8.3 KB" in html and "54 sentences" in html and "27 Nov 2026" in html


def test_validation_messages_are_one_readable_line():
    assert validation_message([{"type": "missing", "loc": ("body", "question"), "msg": "Field required"}]) \
        == "'question' is required"
    assert "not valid JSON" in validation_message([{"type": "json_invalid", "loc": ("body", 1), "msg": "x"}])
    assert "JSON object" in validation_message([{"type": "model_attributes_type", "loc": ("body",), "msg": "x"}])


def test_citations_from_pdf_and_word_files_say_where_they_are():
    """"p. 12" for a PDF sentence, "pp. 12–13" across a page break, the heading for a Word file."""
    on_page = citation(source="data/report.pdf", page=12, end_page=12)
    across = citation(n=2, sentence=7, source="data/report.pdf", page=12, end_page=13)
    word = citation(source="data/notes.docx", heading="Results <b>", page=None, end_page=None)
    assert place(on_page, on_page) == "p. 12" and place(across, across) == "pp. 12–13"
    assert place(on_page, across) == "pp. 12–13" and place(word, word) == "“Results <b>”"
    assert place(citation(), citation()) == ""
    html = answer_html(answer(citations=[on_page, across]), 1)
    assert "report.pdf, p. 12, characters" in html and "report.pdf, pp. 12–13, characters" in html
    assert "notes.docx, “Results &lt;b&gt;”, characters" in answer_html(answer(citations=[word]), 1)
    panel = source_panel_html([{"turn": 1, "question": "When?", "answer": answer(citations=[on_page, across])}])
    assert "report.pdf · pp. 12–13 · characters" in panel
    assert "p. " not in answer_html(answer(), 1)      # a text file: characters only
