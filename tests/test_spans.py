"""Span finding on hand-made sentences and entities (no model): the answer's kind decides the type signal."""
from qa.question import analyse
from qa.spans import extract_span, has_wanted_type

TEXT = "Pakistan's first prime minister, Liaquat Ali Khan, visited the United States in May 1950."
ENTITIES = [["GPE", 0, 8], ["ORDINAL", 11, 16], ["PERSON", 33, 49], ["GPE", 63, 76], ["DATE", 80, 88],
            ["NP", 11, 31], ["NP", 33, 49], ["NP", 59, 76]]


def _info(question):
    info = analyse(question)
    info.terms = list(info.terms)
    return info


def test_a_typed_question_answered_by_an_entity_of_its_type_fits():
    info = _info("Who was the first prime minister of Pakistan?")
    span = extract_span(info, TEXT, ENTITIES)
    assert TEXT[span[0]:span[1]] == "Liaquat Ali Khan"
    assert has_wanted_type(info, span, ENTITIES)
    when = _info("When did the prime minister visit the United States?")
    span = extract_span(when, TEXT, ENTITIES)
    assert TEXT[span[0]:span[1]] == "May 1950" and has_wanted_type(when, span, ENTITIES)


def test_a_fallback_noun_phrase_does_not_count_as_the_wanted_type():
    no_person = [e for e in ENTITIES if e[0] not in ("PERSON", "GPE")]      # only noun phrases and the rest
    info = _info("Who was the first prime minister of Pakistan?")
    span = extract_span(info, TEXT, no_person)
    assert span is not None                                   # a noun phrase, for want of a person
    assert not has_wanted_type(info, span, no_person)
    assert not has_wanted_type(info, None, ENTITIES)


def test_untyped_questions_fit_whenever_a_span_is_found():
    info = _info("What did Liaquat Ali Khan do in May 1950?")
    assert info.qtype == "action"
    span = extract_span(info, TEXT, ENTITIES)
    assert span is not None and has_wanted_type(info, span, ENTITIES)
