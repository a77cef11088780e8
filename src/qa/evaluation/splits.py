"""Which labelled data plays which part, split by article or document, never by question.

Fixed here, in one place, so that every model, every threshold and every report uses the same split:
training articles fit the models, validation articles and texts choose thresholds and report figures,
and the test texts are never fitted or chosen on.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..config import PROJECT_ROOT
from .squad import SquadArticle, load_squad

SQUAD_FILE = PROJECT_ROOT / "eval" / "data" / "squad2" / "train-v2.0-first10.json"
# held back from every fit: thresholds are chosen and figures reported on these; one of them holds
# SQuAD's hand-written unanswerable questions, so abstention is measured on real ones
VALIDATION_ARTICLES = ("The_Legend_of_Zelda:_Twilight_Princess", "To_Kill_a_Mockingbird", "Solar_energy")
# the answer/abstain model is fitted on the reader's output over an article the reader never read
# (stacking: its scores there are as they will be on new text, not as on its own training data); it
# holds SQuAD's other block of unanswerable questions
ANSWER_MODEL_ARTICLES = ("Spectre_(2015_film)",)

# the rest of SQuAD's training set (answerable questions only) and SQuADShifts' Amazon product reviews,
# copied into the repository with their READMEs; each article / review group goes to one part by a hash
# of its title, so the split never depends on the order of the file or on which questions it holds
SQUAD1_FILE = PROJECT_ROOT / "data" / "training" / "squad1-train" / "squad-v1.0-train.json.gz"
AMAZON_FILE = PROJECT_ROOT / "data" / "training" / "squadshifts-amazon" / "amazon-reviews.json.gz"


def part_of(title: str, shares: dict[str, int]) -> str:
    """The part a document belongs to: `shares` maps part names to integer weights (summing to the
    modulus); the title's SHA-1 picks one, the same on every machine."""
    value = int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16) % sum(shares.values())
    for name, weight in shares.items():
        if value < weight:
            return name
        value -= weight
    raise AssertionError("unreachable")


SQUAD1_SHARES = {"answer-model": 1, "reader": 19}                      # 5% of the articles fit the answer model
AMAZON_SHARES = {"validation": 2, "answer-model": 1, "reader": 7}      # review groups


def squad1_split(path: Path = SQUAD1_FILE) -> dict[str, list[SquadArticle]]:
    """SQuAD v1 training articles by part: "reader" (trains it), "answer-model" (fits the answer model on
    the reader's output over text it never read)."""
    return _by_part(load_squad(path), SQUAD1_SHARES)


def amazon_split(path: Path = AMAZON_FILE) -> dict[str, list[SquadArticle]]:
    """Amazon review groups by part: "reader", "answer-model", and "validation" (informal text on which
    thresholds are chosen and figures reported, beside the SQuAD validation articles and our texts)."""
    return _by_part(load_squad(path), AMAZON_SHARES)


def _by_part(articles: list[SquadArticle], shares: dict[str, int]) -> dict[str, list[SquadArticle]]:
    out: dict[str, list[SquadArticle]] = {name: [] for name in shares}
    for a in articles:
        out[part_of(a.title, shares)].append(a)
    return out


# our own question sets over data/texts/ (eval/texts/): these three choose thresholds with the SQuAD
# validation articles; the other five are test texts that nothing is fitted or chosen on
VALIDATION_TEXTS = ("encyclopedia-rift-valley-fever", "story-saki-the-story-teller", "howto-git-tutorial")
TEST_TEXTS = ("encyclopedia-barcelonnette", "encyclopedia-dorothy-parker", "story-london-the-story-of-keesh",
              "legal-us-constitution-articles-1-3", "news-every-kid-in-a-park-website")


def squad_split(path: Path = SQUAD_FILE) -> tuple[list[SquadArticle], list[SquadArticle], list[SquadArticle]]:
    """(reader training articles, answer_model_articles training articles, validation articles)."""
    articles = load_squad(path)
    held = VALIDATION_ARTICLES + ANSWER_MODEL_ARTICLES
    reader = [a for a in articles if a.title not in held]
    answer_model_articles = [a for a in articles if a.title in ANSWER_MODEL_ARTICLES]
    valid = [a for a in articles if a.title in VALIDATION_ARTICLES]
    if len(valid) + len(answer_model_articles) != len(held):
        raise ValueError(f"{path} lacks an article of {held}")
    return reader, answer_model_articles, valid
