"""Split by article or document: nothing of a validation article, the answer model's articles or a test
text reaches the reader's training examples, and each part of the new data is fixed by its titles."""
import random

import pytest

from qa.evaluation.splits import (AMAZON_SHARES, ANSWER_MODEL_ARTICLES, SQUAD1_SHARES, TEST_TEXTS,
                                  VALIDATION_ARTICLES, VALIDATION_TEXTS, amazon_split, part_of, squad1_split,
                                  squad_split)
from qa.training.examples import Document, Mix, reader_examples


def _count(texts):
    return [len(t.split()) + 2 for t in texts]      # a stand-in for the word-piece counter


def test_the_three_parts_are_disjoint_and_cover_the_sample():
    reader, answer_model_articles, valid = squad_split()
    titles = [a.title for a in reader], [a.title for a in answer_model_articles], [a.title for a in valid]
    assert set(titles[2]) == set(VALIDATION_ARTICLES) and set(titles[1]) == set(ANSWER_MODEL_ARTICLES)
    assert not (set(titles[0]) & set(titles[1])) and not (set(titles[0]) & set(titles[2]))
    assert len(titles[0]) + len(titles[1]) + len(titles[2]) == 10
    assert not (set(VALIDATION_TEXTS) & set(TEST_TEXTS))


@pytest.mark.slow
def test_the_new_data_splits_by_title_and_no_title_is_in_two_parts():
    squad, amazon = squad1_split(), amazon_split()
    assert set(squad) == set(SQUAD1_SHARES) and set(amazon) == set(AMAZON_SHARES)
    for parts in (squad, amazon):
        titles = [a.title for part in parts.values() for a in part]
        assert len(titles) == len(set(titles))
        for name, part in parts.items():
            assert all(part_of(a.title, SQUAD1_SHARES if parts is squad else AMAZON_SHARES) == name for a in part)
    assert sum(len(a.questions) for a in squad["reader"]) > 70_000       # of 82,926
    assert 50 <= len(amazon["validation"]) <= 110 and len(amazon["answer-model"]) >= 20
    first10 = {a.title for a in squad_split()[0] + squad_split()[1] + squad_split()[2]}
    assert not first10 & {a.title for part in squad.values() for a in part}


def test_part_of_is_stable_and_follows_the_shares():
    assert part_of("Solar_energy", {"a": 1, "b": 1}) == part_of("Solar_energy", {"a": 1, "b": 1})
    names = [part_of(f"title {i}", {"small": 1, "large": 9}) for i in range(2000)]
    assert 0.05 < names.count("small") / len(names) < 0.15


def test_no_validation_or_answer_model_text_or_question_reaches_the_reader_examples():
    reader, answer_model_articles, valid = squad_split()
    docs = [Document.of(a, _count) for a in reader]
    examples = reader_examples(docs, Mix(), random.Random(0), _count)
    held = answer_model_articles + valid
    held_questions = {q.question for a in held for q in a.questions}
    held_sentences = {s.strip() for a in held for s in a.text.split(". ") if len(s) > 80}
    contexts = "\n".join(e.context for e in examples)
    assert not any(e.question in held_questions for e in examples)
    assert not any(s in contexts for s in held_sentences)
    origins = {e.origin for e in examples}
    assert {"passage", "window", "near-miss", "swap", "other-article"} <= origins
