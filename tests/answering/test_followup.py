"""Follow-up questions resolved against the conversation."""
import pytest

from qa.answering.ask import ask
from qa.answering.followup import resolve

WHO_MET = [{"role": "user", "content": "Who did Bilawal Bhutto Zardari meet in New York?"},
           {"role": "assistant", "content": "Antony Blinken"}]


@pytest.mark.parametrize("question,resolved", [
    ("Where did they meet?", "Where did Bilawal Bhutto Zardari meet?"),
    ("What did he post on Twitter afterwards?", "What did Bilawal Bhutto Zardari post on Twitter afterwards?"),
    ("What did his party say?", "What did Bilawal Bhutto Zardari's party say?"),
])
def test_a_personal_pronoun_becomes_the_one_asked_about(question, resolved):
    assert resolve(question, WHO_MET) == resolved


@pytest.mark.parametrize("earlier, question, resolved", [
    ("Who was Pakistan's first prime minister?", "when did he visit?", "when did the first prime minister visit?"),
    ("Which president did Liaquat Ali Khan meet?", "When did he travel?", "When did Liaquat Ali Khan travel?"),
    ("When did Pakistan join SEATO?", "When did he leave?", "When did he leave?"),           # no one: left alone
    ("What did the United States give Pakistan?", "What did he say?", "What did he say?"),
    ("Who is Pakistan's newly appointed Foreign Minister?", "Who did he meet in New York?",
     "Who did the Foreign Minister meet in New York?"),
])
def test_a_personal_pronoun_resolves_to_a_person_or_is_left_alone(earlier, question, resolved, committed_names):
    """Issue 20, item 14: "when did he visit?" after a question about Liaquat Ali Khan became "when did
    Pakistan's visit?". Never a place, never a possessive alone."""
    history = [{"role": "user", "content": earlier}, {"role": "assistant", "content": "Liaquat Ali Khan"}]
    got = resolve(question, history, committed_names)
    assert got == resolved
    assert "Pakistan's visit" not in got and "did Pakistan " not in got


@pytest.fixture(scope="module")
def committed_names():
    """What the committed index's entities call each name (no model needed)."""
    from qa.answering.followup import known_names
    from qa.config import DEFAULT_INDEX
    from qa.indexing.store import load_index

    return known_names(load_index(DEFAULT_INDEX))


def test_the_documents_tell_a_person_from_a_place(committed_names):
    assert committed_names.kind("Bilawal Bhutto Zardari") is True          # "Bhutto Zardari": PERSON
    assert committed_names.kind("Liaquat Ali Khan") is True
    assert committed_names.kind("Pakistan") is False and committed_names.kind("Pakistan's") is False
    assert committed_names.kind("the United States") is False
    assert committed_names.kind("Gandalf") is None
    assert resolve("Where did they meet?", WHO_MET, committed_names) == "Where did Bilawal Bhutto Zardari meet?"


def test_there_carries_the_place_and_a_standalone_question_is_unchanged():
    assert resolve("What was discussed there?", WHO_MET).endswith("New York")
    assert resolve("When did Pakistan join SEATO?", WHO_MET) == "When did Pakistan join SEATO?"


@pytest.mark.slow
def test_where_did_they_meet_after_a_who_question_answers_the_place(article_index):
    answer = ask(article_index, "Where did they meet?", history=WHO_MET)
    assert answer.resolved_question == "Where did Bilawal Bhutto Zardari meet?"
    assert not answer.abstained and "New York" in answer.answer
