"""The SQuAD 2.0 loader (articles as whole documents) and the official v2 scoring."""
import json

import pytest

from qa.evaluation.squad import (PARAGRAPH_BREAK, SquadAnswer, SquadError, SquadQuestion, compute_exact,
                                 compute_f1, load_squad, squad_scores)
from qa.evaluation.splits import SQUAD_FILE


def _file(tmp_path, data) -> str:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_every_answer_of_the_committed_sample_points_at_its_text_in_the_whole_article():
    articles = load_squad(SQUAD_FILE)
    assert len(articles) == 10
    assert sum(len(a.questions) for a in articles) == 4719
    assert sum(not q.answerable for a in articles for q in a.questions) == 348
    for article in articles:
        for q in article.questions:
            for a in q.answers:
                assert article.text[a.start:a.end] == a.text
            start, end = article.paragraphs[q.paragraph]
            assert all(start <= a.start and a.end <= end for a in q.answers)


def test_paragraphs_are_joined_in_order_with_a_blank_line(tmp_path):
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [
        {"context": "First one.", "qas": [{"id": "a", "question": "Which?", "is_impossible": False,
                                           "answers": [{"text": "one", "answer_start": 6}]}]},
        {"context": "Second two.", "qas": [{"id": "b", "question": "What?", "is_impossible": False,
                                            "answers": [{"text": "two", "answer_start": 7}]},
                                           {"id": "c", "question": "Who?", "is_impossible": True, "answers": []}]}]}]}
    [article] = load_squad(_file(tmp_path, data))
    assert article.text == "First one." + PARAGRAPH_BREAK + "Second two."
    b = article.questions[1].answers[0]
    assert article.text[b.start:b.end] == "two" and b.start == len("First one.\n\nSecond ")
    assert not article.questions[2].answerable and article.questions[2].paragraph == 1


@pytest.mark.parametrize("content", ["not json", json.dumps({"data": [{"title": "x"}]}),
                                     json.dumps({"data": [{"title": "x", "paragraphs": [{"context": "abc", "qas": [
                                         {"id": "1", "question": "q", "answers": [{"text": "zz", "answer_start": 0}]}]}]}]})])
def test_a_file_that_is_not_squad_is_refused_with_a_message(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SquadError):
        load_squad(path)


def test_official_normalisation_em_and_f1():
    assert compute_exact("The Cat!", "cat") == 1
    assert compute_f1("the cat sat", "a cat sat down") == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert compute_f1("", "") == 1.0 and compute_f1("", "something") == 0.0


def test_scores_split_has_and_no_answers_and_find_the_best_threshold():
    qs = [SquadQuestion("1", "q", [SquadAnswer("Paris", 0, 5)], 0),
          SquadQuestion("2", "q", [SquadAnswer("1999", 0, 4)], 0),
          SquadQuestion("3", "q", [], 0)]
    preds = {"1": "Paris", "2": "2001", "3": "London"}
    na = {"1": 0.1, "2": 0.6, "3": 0.9}
    s = squad_scores(qs, preds, na)
    assert s["exact"] == pytest.approx(100 / 3) and s["HasAns_exact"] == 50.0 and s["NoAns_exact"] == 0.0
    # abstaining above na 0.1 keeps "Paris", drops the wrong "2001" (no loss) and the wrong "London" (+1)
    assert s["best_exact"] == pytest.approx(200 / 3) and s["best_exact_thresh"] == 0.1
