import pytest

from qa.reading.documents import is_furniture
from qa.reading.sentences import split_sentences


def texts(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_dotted_abbreviation_inside_a_sentence_does_not_split():
    text = "The minister met U.S. Secretary of State Antony Blinken in New York. They talked."
    assert texts(text) == ["The minister met U.S. Secretary of State Antony Blinken in New York.", "They talked."]


def test_dotted_abbreviation_ending_a_sentence_splits_before_a_sentence_starter():
    text = "It was built and trained by U.S. The best equipment is American. We work with U.S. and friends."
    assert texts(text) == ["It was built and trained by U.S.", "The best equipment is American.",
                           "We work with U.S. and friends."]


def test_decimal_amounts_and_titles_do_not_split():
    text = "The USA provided about $78.3 billion in aid. Mr. Khan and Dr. Rao agreed. Harry S. Truman said so."
    assert texts(text) == ["The USA provided about $78.3 billion in aid.", "Mr. Khan and Dr. Rao agreed.",
                           "Harry S. Truman said so."]


def test_quote_ending_a_sentence_stays_with_it():
    text = "He said “we will continue.” Then he left. “Never again,” she wrote. Done!"
    assert texts(text) == ["He said “we will continue.”", "Then he left.", "“Never again,” she wrote.", "Done!"]


def test_hard_wrapped_lines_join_and_offsets_stay_exact():
    text = "Title Line\n\nThe first sentence is wrapped\nacross two lines. The second\n  one too.\n\nNew paragraph here."
    spans = split_sentences(text)
    got = [text[s:e] for s, e in spans]
    assert got == ["Title Line", "The first sentence is wrapped\nacross two lines.", "The second\n  one too.",
                   "New paragraph here."]


def test_heading_without_full_stop_is_its_own_sentence():
    text = "# Background\nPakistan opted for the latter. It joined SEATO.\n\nSummary\n\nAll done."
    assert texts(text) == ["# Background", "Pakistan opted for the latter.", "It joined SEATO.", "Summary",
                           "All done."]


def test_list_items_are_separate():
    text = "Sectors:\n- trade and investment\n- energy\n1. health\n"
    assert texts(text)[-3:] == ["- trade and investment", "- energy", "1. health"]


def test_lowercase_after_full_stop_is_not_a_boundary():
    assert texts("See e.g. the annex. Next one.") == ["See e.g. the annex.", "Next one."]


def test_windows_line_endings_keep_offsets():
    text = "First line of a\r\nwrapped sentence. Second.\r\n\r\nThird."
    assert texts(text) == ["First line of a\r\nwrapped sentence.", "Second.", "Third."]


@pytest.mark.parametrize("line,expected", [
    ("Comments are closed.", True), ("Subscribe to Newsletter", True), ("Leave a reply", True),
    ("Pakistan closed its comments on the matter.", False), ("Subscribers rose in 2020.", False),
])
def test_page_furniture(line, expected):
    assert is_furniture(line) is expected


def test_every_article_sentence_round_trips_and_nothing_is_lost(article_text):
    spans = split_sentences(article_text)
    assert len(spans) > 40
    covered = [False] * len(article_text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end
        piece = article_text[start:end]
        assert piece == piece.strip()
        for i in range(start, end):
            covered[i] = True
        previous_end = end
    lost = [ch for ch, c in zip(article_text, covered) if not c and not ch.isspace()]
    assert lost == []


def test_article_hard_cases(article_text):
    sentences = [" ".join(article_text[s:e].split()) for s, e in split_sentences(article_text)]
    assert any(s.startswith("Pakistan’s newly appointed Foreign Minister") and s.endswith("in New York.")
               for s in sentences)
    assert any("about $78.3 billion between 1948 and 2016" in s for s in sentences)
    assert "The best equipment we have is American equipment." in sentences
    assert sentences[0] == "Pak- US Diplomatic Relations"
