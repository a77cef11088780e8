"""Pages and headings of an extracted text, from offsets."""
from qa.reading.positions import heading_at, layout_problem, locate, page_at


def test_page_at_counts_from_one_and_skips_empty_pages():
    pages = [0, 100, 250, 250, 400]          # page 3 is empty: it starts where page 4 does
    assert [page_at(pages, o) for o in (0, 99, 100, 249, 250, 399, 400, 10_000)] == [1, 1, 2, 2, 4, 4, 5, 5]
    assert page_at([], 5) is None


def test_locate_gives_start_and_end_page_or_heading():
    assert locate({"pages": [0, 100]}, 90, 120) == {"page": 1, "end_page": 2}
    assert locate({"pages": [0, 100]}, 10, 100) == {"page": 1, "end_page": 1}      # end is exclusive
    headings = [[0, 0, "Title"], [50, 1, "Methods"]]
    assert locate({"headings": headings}, 60, 70) == {"heading": "Methods"}
    assert heading_at(headings, 49) == "Title" and heading_at([[10, 1, "Late"]], 5) is None
    assert locate({"source": "a.txt"}, 0, 5) == {}


def test_layout_problem_finds_malformed_pages_and_headings():
    assert layout_problem({"chars": 500, "pages": [0, 100, 400]}) is None
    assert layout_problem({"chars": 500, "headings": [[0, 1, "A"], [30, 2, "B"]]}) is None
    for bad in ({"pages": []}, {"pages": [5, 10]}, {"pages": [0, 50, 20]}, {"pages": "0"},
                {"pages": [0, 900], "chars": 500}, {"pages": [0, True]}, {"headings": [[0, 1]]},
                {"headings": [[10, 1, "B"], [0, 1, "A"]]}, {"headings": [[0, "1", "A"]]}):
        assert layout_problem(bad), bad
