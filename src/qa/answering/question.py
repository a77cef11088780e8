"""What kind of answer a question wants, and its key terms."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..indexing.keyword import stem, terms

# focus noun of "which/what <noun>" -> answer type
_FOCUS_TYPES = {
    "date": {"year", "month", "date", "day", "decade", "century", "time", "period", "era"},
    "place": {"country", "countries", "nation", "city", "cities", "state", "capital", "place", "region",
              "location", "province", "continent", "town", "venue", "territory"},
    "person": {"person", "people", "leader", "minister", "president", "official", "secretary", "man",
               "woman", "chief", "general", "envoy", "diplomat", "author", "politician", "individual",
               "premier", "prime", "head", "ruler", "statesman", "representative", "figure", "commander"},
    "organisation": {"organisation", "organization", "alliance", "alliances", "agency", "group", "party",
                     "company", "institution", "body", "department", "corporation", "bloc", "pact"},
    "amount": {"amount", "sum", "figure", "number", "percentage", "share", "total", "quantity", "price",
               "fee", "cost"},
}
# spaCy entity labels that can answer each question type, best first
ANSWER_LABELS = {
    "date": ("DATE", "TIME"),
    "person": ("PERSON", "ORG", "NORP"),
    "organisation": ("ORG", "NORP"),
    "place": ("GPE", "LOC", "FAC", "NORP"),
    "amount": ("MONEY", "PERCENT", "QUANTITY", "CARDINAL", "DATE"),
}

# a "who" question may be answered by a place ("Who hosted the talks?" -> "Pakistan") when nothing better is there
_LAST_RESORT = {"person": ("GPE",)}

# words that frame a question rather than name what it is about
_FRAME = {stem(w) for w in """stand stands abbreviation abbreviated acronym short full form expansion expand mean meaning
    means reason reasons purpose happen happened exactly specifically mention mentioned describe described
    text article document passage according""".split()}
_AUX = {"is", "was", "are", "were", "did", "does", "do", "has", "have", "had", "can", "could", "will",
        "would", "should", "may", "might", "must", "shall", "about", "if", "kind", "sort", "type"}


@dataclass
class QuestionInfo:
    text: str
    qtype: str          # date, person, organisation, place, amount, expansion, acronym, noun, reason, manner,
    #                     action, other
    focus: str | None   # the acronym for "stand for", the noun for "which <noun>"
    terms: list[str]


def analyse(question: str) -> QuestionInfo:
    q = " ".join(question.split())
    low = q.lower()
    qtype, focus = _classify(q, low)
    return QuestionInfo(q, qtype, focus, question_terms(q))


_NAME = re.compile(r"(?<!^)\b(?:[A-Z][\w’'\-]*|\d[\d.,]*)")


def question_names(text: str) -> set[str]:
    """Terms of the names and numbers a question mentions (capitalised words not at its start, figures)."""
    return {t for word in _NAME.findall(text) for t in terms(word)}


def question_terms(text: str) -> list[str]:
    """Key terms of a question, without the words that only frame it."""
    return [t for t in terms(text) if t not in _FRAME]


def _classify(q: str, low: str) -> tuple[str, str | None]:
    acronym = re.search(r"\b([A-Z][A-Z&]{1,9})s?\b", q)
    if re.search(r"\b(stand|stands) for\b|\babbreviat|\bacronym\b|\bshort (for|form)\b|\bfull (form|name)\b|\bexpan(d|sion)\b",
                 low):
        if acronym:
            return "expansion", acronym.group(1)
        return "acronym", None          # "which acronym / short form stands for ...": the reverse
    many = re.search(r"\bhow (much|many)\s+([a-z\-]+)?", low)
    if many or re.search(r"\bwhat (amount|sum|percentage|number)\b|\bhow large\b|\bhow big\b", low):
        noun = many.group(2) if many and many.group(2) and many.group(2) not in _AUX else None
        return "amount", noun
    if re.search(r"\bhow long\b", low):
        return "date", None
    if re.search(r"^(when|since when|until when)\b|\b(in|on|by|since|from|until) when\b|\bwhen (did|was|were|is|has|had|do|does|will)\b", low):
        return "date", None
    if re.search(r"\bwhy\b|\bfor what (reason|purpose)\b|\bwhat (was|is|were) the (reason|purpose|motive|aim|goal)\b|\bwhat for\b", low):
        return "reason", None
    if re.search(r"^(who|whom|whose)\b|\b(who|whom|whose)\b", low):
        return "person", None
    if re.search(r"^where\b|\bwhere (did|was|were|is|are|do|does|has|had)\b|\bin what (place|city|country)\b", low):
        return "place", None
    if re.search(r"\bwhat (did|does|do|has|have|had|will|would|could|should|can|is|was)\b.+\b(do|doing|done)\b", low):
        return "action", None
    low = re.sub(r"\b(which|what) (kind|sort|type|types|kinds|form|forms) of\b", r"\1", low)
    match = re.search(r"\b(which|what)\s+([a-z\-]+)(?:\s+([a-z\-]+))?", low)
    if match and match.group(2) not in _AUX:
        noun = match.group(2)
        nouns = {noun, match.group(3) or ""}
        for kind, words in _FOCUS_TYPES.items():
            if nouns & words:
                return kind, noun
        return "noun", noun
    if re.search(r"^how\b|\bhow (did|does|do|can|could|would|will|is|was|are|were)\b|\bin what way\b|\bby what means\b", low):
        return "manner", None
    return "other", None


def has_wanted_type(info: QuestionInfo, span: tuple[int, int] | None, entities: list) -> bool:
    """Whether `span` answers in the question's own kind: for "who/when/where/how much" questions, it
    must overlap an entity of a wanted label."""
    if span is None:
        return False
    labels = ANSWER_LABELS.get(info.qtype)
    if labels is None:
        return True
    wanted = labels + _LAST_RESORT.get(info.qtype, ())
    return any(label in wanted and s < span[1] and e > span[0] for label, s, e in entities)
