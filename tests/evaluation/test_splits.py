"""Split by article: nothing of a validation article (or of the answer model's article) reaches the
reader's training data, and nothing of our test sets reaches any fit."""
from qa.training import data
from qa.evaluation.splits import (ANSWER_MODEL_ARTICLES, TEST_TEXTS, VALIDATION_ARTICLES, VALIDATION_TEXTS,
                                  squad_split)
from qa.training.data import squad_reader_examples
from qa.training.train_reader import DEV_SETS


def test_the_three_parts_are_disjoint_and_cover_the_sample():
    reader, answer_model_articles, valid = squad_split()
    titles = [a.title for a in reader], [a.title for a in answer_model_articles], [a.title for a in valid]
    assert set(titles[2]) == set(VALIDATION_ARTICLES) and set(titles[1]) == set(ANSWER_MODEL_ARTICLES)
    assert not (set(titles[0]) & set(titles[1])) and not (set(titles[0]) & set(titles[2]))
    assert len(titles[0]) + len(titles[1]) + len(titles[2]) == 10


def test_no_validation_or_answer_model_text_or_question_reaches_the_reader_examples():
    reader, answer_model_articles, valid = squad_split()
    examples = squad_reader_examples(reader, seed=0)
    held = answer_model_articles + valid
    held_questions = {q.question for a in held for q in a.questions}
    # sentences long enough to be distinctive; a window is text of a training article only
    held_sentences = {s.strip() for a in held for s in a.text.split(". ") if len(s) > 80}
    contexts = "\n".join(e.context for e in examples)
    assert not any(e.question in held_questions for e in examples)
    assert not any(s in contexts for s in held_sentences)
    trained_text = "\n".join(a.text for a in reader)
    assert all(e.context in trained_text for e in examples[:500])


def test_the_reader_trains_on_dev_only_never_on_test_sets():
    names = [rows for rows, _ in DEV_SETS]
    assert names == ["eval/article-dev.jsonl"]
    assert not (set(VALIDATION_TEXTS) & set(TEST_TEXTS))


def test_answer_windows_hold_the_answer():
    reader, _, _ = squad_split()
    for e in squad_reader_examples(reader[:1], seed=0, other_article=0):
        if e.start is not None:
            assert e.context[e.start:e.end].strip()
    assert data.WINDOW == 3
