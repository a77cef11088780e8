import pytest

from qa.answering.ask import QuestionError, ask
from qa.config import RetrievalSettings
from qa.indexing.store import normalise

pytestmark = pytest.mark.slow


def check_citations(answer, text):
    for c in answer.citations:
        assert normalise(text[c.start:c.end]) == c.text


def test_date_question_gets_short_verbatim_answer_with_exact_citation(article_index, article_text):
    answer = ask(article_index, "When did Pakistan sign the Mutual Defense Assistance Agreement?")
    assert not answer.abstained
    assert answer.answer == "May 1954"
    assert answer.citations[0].text.startswith("Pakistan signed Mutual Defense Assistance Agreement")
    check_citations(answer, article_text)
    assert article_text[answer.answer_start:answer.answer_end] == "May 1954"
    assert 0 < answer.confidence <= 1


@pytest.mark.parametrize("question,expected", [
    ("Who did Bilawal Bhutto Zardari meet in New York?", "Antony Blinken"),
    ("Which US president did Liaquat Ali Khan travel to see?", "Truman"),
    ("What does EWEC stand for?", "East West Economic Corridor"),
])
def test_short_answers_by_question_type(article_index, article_text, question, expected):
    answer = ask(article_index, question)
    assert expected in answer.answer
    assert normalise(article_text[answer.answer_start:answer.answer_end]) == answer.answer
    check_citations(answer, article_text)


def test_answer_is_always_copied_from_the_text(article_index, article_text):
    flat = normalise(article_text)
    for question in ["Why did Pakistani officials travel to the US?", "How much military aid did the USA give?",
                     "What did the army chief say about American equipment?", "Where did the ministers meet?"]:
        answer = ask(article_index, question)
        if not answer.abstained:
            assert answer.answer in flat
            check_citations(answer, article_text)


def test_unrelated_question_abstains_without_passages_and_a_near_one_shows_them(article_index):
    """Issue 20, item 15: passages only when they are close (qa.answering.passages, eval/closeness.md)."""
    answer = ask(article_index, "What is the recipe for a chocolate cake?")
    assert answer.abstained and answer.answer == "" and answer.citations == [] and answer.passages == []
    # whether the model abstains on a near-topic question is the model's business (eval/report.md); here the
    # abstention is forced (a threshold of 1), so that only the choice of passages is tested
    forced = RetrievalSettings(extra={"answer_threshold": 1.01})
    near = ask(article_index, "In what year did Liaquat Ali Khan travel to the United States?", settings=forced)
    assert near.abstained and near.passages and near.passages[0].text
    off = ask(article_index, "What is the recipe for a chocolate cake?", settings=forced)
    assert off.abstained and off.passages == []


def test_follow_up_uses_the_conversation(article_index):
    history = [{"role": "user", "content": "Who did Bilawal Bhutto Zardari meet in New York?"},
               {"role": "assistant", "content": "Antony Blinken"}]
    answer = ask(article_index, "What did he post on Twitter afterwards?", history=history)
    assert answer.resolved_question and "Bhutto Zardari" in answer.resolved_question
    assert not answer.abstained
    assert "Twitter" in answer.citations[0].text


@pytest.mark.parametrize("question,message", [("", "empty"), ("   \n", "empty"), ("x" * 100_000, "too long"),
                                              (None, "text")])
def test_bad_questions_get_clear_errors(article_index, question, message):
    with pytest.raises(QuestionError, match=message):
        ask(article_index, question)


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_every_retrieval_mode_answers(article_index, mode):
    answer = ask(article_index, "When did Pakistan sign the Mutual Defense Assistance Agreement?", mode=mode,
                 settings=None)
    assert "1954" in " ".join(c.text for c in answer.citations) or answer.abstained
