"""Reader examples: the passage holds the answer where it says, negatives hold no answer, gaps are marked."""
import random

from qa.answering.reader_input import GAP, lay_out
from qa.evaluation.squad import SquadAnswer, SquadArticle, SquadQuestion
from qa.training.examples import Document, Mix, reader_examples, swapped


def _count(texts):
    return [len(t.split()) + 2 for t in texts]


TEXT = ("The treaty was signed in Paris in 1898. It ended the war between Spain and the United States. "
        "Spain ceded Puerto Rico and Guam. The Philippines were sold for twenty million dollars.\n\n"
        "The Senate ratified the treaty in 1899. William McKinley was president at the time. "
        "Opponents argued against the annexation. The vote was close.")


def _article():
    qs = []
    for n, (q, a) in enumerate([("Where was the treaty signed?", "Paris"),
                                ("How much were the Philippines sold for?", "twenty million dollars"),
                                ("Who was president when the Senate ratified the treaty?", "William McKinley"),
                                ("When did the Senate ratify the treaty?", "1899")]):
        start = TEXT.index(a)
        qs.append(SquadQuestion(f"q{n}", q, [SquadAnswer(a, start, start + len(a))], 0))
    return SquadArticle("Treaty", TEXT, [(0, len(TEXT))], qs)


def test_lay_out_marks_gaps_and_keeps_neighbours_together():
    laid = lay_out([(1, "One."), (2, "Two."), (5, "Five.")], lambda a, b: b == a + 1)
    assert laid.text == "One. Two." + GAP + "Five."
    assert [laid.text[s:e] for _, s, e in laid.parts] == ["One.", "Two.", "Five."]


def test_positive_examples_point_at_their_answer_and_negatives_hold_none():
    doc = Document.of(_article(), _count)
    other = Document.of(SquadArticle("Other", "Cats sleep a lot. Dogs bark at night. Birds sing in the morning.", [],
                                     []), _count)
    mix = Mix(near_miss=1.0, swap=1.0, other_article=1.0)
    examples = reader_examples([doc, other], mix, random.Random(0), _count)
    answers = {q.question: q.answers[0].text for q in doc.article.questions}
    positives = [e for e in examples if e.start is not None]
    assert len(positives) == 4
    for e in positives:
        assert e.context[e.start:e.end] == answers[e.question]
    for e in examples:
        if e.origin == "near-miss":
            assert answers[e.question] not in e.context
        if e.origin == "swap":
            assert e.question not in answers
        assert "\n" not in e.context          # sentences are laid out, not the raw text


def test_swapped_question_names_another_entity_of_the_same_kind():
    names = {"year": ["1898", "1899"], "number": [], "name": ["Paris", "William McKinley", "Spain"]}
    q = swapped("When did the Senate ratify the treaty in 1899?", names, "The Senate ratified it in 1899.",
                random.Random(0))
    assert q == "When did the Senate ratify the treaty in 1898?"
    assert swapped("What did they do?", names, "", random.Random(0)) is None
