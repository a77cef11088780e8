"""The hand-built baseline's chunker and naive sentence splitter."""
import pytest

from qa.evaluation.baseline import CHUNK_CHARS, OVERLAP_CHARS, fixed_windows, naive_sentences


def test_windows_are_500_characters_overlapping_by_50():
    assert (CHUNK_CHARS, OVERLAP_CHARS) == (500, 50)
    assert fixed_windows(1200) == [(0, 500), (450, 950), (900, 1200)]
    windows = fixed_windows(8456)
    assert all(end - start == 500 for start, end in windows[:-1])
    assert all(a_end - b_start == 50 for (_, a_end), (b_start, _) in zip(windows, windows[1:]))
    assert windows[0][0] == 0 and windows[-1][1] == 8456


def test_short_and_empty_texts():
    assert fixed_windows(500) == [(0, 500)]
    assert fixed_windows(30) == [(0, 30)]
    assert fixed_windows(0) == []
    with pytest.raises(ValueError):
        fixed_windows(100, size=50, overlap=50)


def test_naive_sentences_split_on_stop_and_space_with_offsets():
    text = "  Hello there. How are\nyou?  Fine! U.S. aid"
    spans = naive_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Hello there.", "How are\nyou?", "Fine!", "U.S.", "aid"]
