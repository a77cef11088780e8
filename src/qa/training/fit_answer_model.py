"""Fit the answer model on the reader's candidates over text the reader never read, then choose its two
thresholds on validation sets only.

Fitted on (none of it read by the reader): SQuAD v1's answer-model articles and SQuAD 2.0's Spectre
article (with its hand-written unanswerable questions), the Amazon review groups of the answer-model part,
and our dev set over the Pakistan–US article; plus made unanswerable questions: questions of other
documents, and questions with a name, number or year swapped for another of the article's.
Thresholds, chosen on the SQuAD validation articles, our validation texts and the Amazon validation
groups (each set counts once):
- abstain below `threshold`: the highest threshold at which the mean false abstention over the sets stays
  within FALSE_ABSTENTION (so abstaining is as frequent as that allows);
- `confident` at or above the lowest threshold at which answers given are right at least PRECISION of
  the time (an answer to an unanswerable question counts wrong); between the two the answer is "unsure".
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

import numpy as np

from ..answering.answer_model import ANSWER_MODEL_FILE, AnswerModel
from ..answering.candidates import PassageSettings
from ..answering.models import Models
from ..answering.reader import Reader
from ..config import DEFAULT_INDEX, PROJECT_ROOT
from ..evaluation import metrics as m
from ..evaluation.corpora import TEXT_SETS, squad_index, squad_rows, text_index
from ..evaluation.datasets import EvidenceLocator, Row, Span, load_dataset, read_source
from ..evaluation.splits import VALIDATION_TEXTS, amazon_split, squad1_split, squad_split
from ..evaluation.squad import SquadArticle
from ..indexing.store import Index, load_index, normalise
from .examples import swappable, swapped

DEV_SET = PROJECT_ROOT / "eval" / "article-dev.jsonl"
QUESTIONS_PER_ARTICLE = 50     # of each SQuAD v1 answer-model article (23 articles)
SWAPS_PER_DOCUMENT = 10        # made unanswerable questions per fitting document
CROSS_QUESTIONS = 400          # questions of other documents asked against Spectre
C = 1.0                        # inverse L2 strength; fixed, not tuned
FALSE_ABSTENTION = 0.05
PRECISION = 0.90
# how the reader is read: the top sentences as one passage (chosen on validation: see the model card)
READING = {"strategy": "passage", **vars(PassageSettings())}


@dataclass
class Asked:
    """One question's candidates, each with its features and whether it is right."""
    group: str
    answerable: bool
    features: list[dict]
    labels: list[bool]
    f1: list[float]             # SQuAD F1 of each candidate's answer (0 for unanswerable questions)


def ask_rows(index: Index, rows: list[Row], gold: list[list[Span]], group: str, models: Models) -> list[Asked]:
    from ..answering.ask import answer_candidates

    out = []
    for row, spans in zip(rows, gold):
        candidates = answer_candidates(index, row.question, history=row.history or None, models=models)
        feats, labels, f1s = [], [], []
        for c in candidates:
            s = index.sentences[c.sentence]
            answer = normalise(s.text[c.start:c.end])
            cited = Span(s.source, s.start, s.end)
            f1 = m.max_over_gold(m.f1_score, answer, row.answers) if row.answerable else 0.0
            feats.append(c.features)
            f1s.append(f1)
            labels.append(row.answerable and f1 >= 0.5 and any(cited.overlaps(g) for g in spans))
        if candidates:
            out.append(Asked(group, row.answerable, feats, labels, f1s))
    return out


def our_rows(path, index: Index) -> tuple[list[Row], list[list[Span]]]:
    rows = load_dataset(path)
    sources = [d["source"] for d in index.manifest["sources"]]
    locator = EvidenceLocator({s: read_source(s) for s in sources})
    return rows, [locator.gold_spans(r) for r in rows]


def _made_unanswerable(article: SquadArticle, rng: random.Random, n: int) -> list[Row]:
    """Questions of the article with a name, number or year swapped for another of the article's, which
    the answer's paragraph does not hold: SQuAD 2.0's way of writing unanswerable questions, by rule."""
    names = swappable(article.text)
    out = []
    for q in rng.sample(article.questions, len(article.questions)):
        if len(out) >= n:
            break
        if not q.answerable:
            continue
        p0, p1 = article.paragraphs[q.paragraph]
        other = swapped(q.question, names, article.text[p0:p1], rng)
        if other:
            out.append(Row(id=f"{q.id}-swap", question=other, answers=[], evidence=[], answerable=False))
    return out


def _document(article: SquadArticle, models: Models, rng: random.Random, limit: int | None, group: str,
              log) -> list[Asked]:
    index = squad_index(article)
    rows, gold = squad_rows(article, index)
    if limit is not None and len(rows) > limit:
        keep = sorted(rng.sample(range(len(rows)), limit))
        rows, gold = [rows[i] for i in keep], [gold[i] for i in keep]
    made = _made_unanswerable(article, rng, SWAPS_PER_DOCUMENT)
    return (ask_rows(index, rows, gold, group, models)
            + ask_rows(index, made, [[] for _ in made], f"{group}, swapped", models))


def fitting_data(models: Models, log) -> list[Asked]:
    rng = random.Random(0)
    reader_s2, spectre, _ = squad_split()
    asked = []
    squad1 = squad1_split()
    for article in squad1["answer-model"]:
        asked += _document(article, models, rng, QUESTIONS_PER_ARTICLE, "SQuAD v1 answer-model articles", log)
    log(f"asked the {len(squad1['answer-model'])} SQuAD v1 answer-model articles ({len(asked)} questions)")
    for article in amazon_split()["answer-model"]:
        asked += _document(article, models, rng, None, "Amazon answer-model reviews", log)
    log(f"asked the Amazon answer-model review groups ({len(asked)} questions in all)")
    for article in spectre:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        asked += ask_rows(index, rows, gold, article.title, models)
        others = [q for a in squad1["answer-model"] for q in a.questions if q.answerable]
        cross = [Row(id=q.id, question=q.question, answers=[], evidence=[], answerable=False)
                 for q in rng.sample(others, CROSS_QUESTIONS)]
        asked += ask_rows(index, cross, [[] for _ in cross], f"other articles vs {article.title}", models)
        log(f"asked {len(rows)} + {len(cross)} questions of {article.title}")
    article_index = load_index(DEFAULT_INDEX)
    rows, gold = our_rows(DEV_SET, article_index)
    asked += ask_rows(article_index, rows, gold, DEV_SET.name, models)
    log(f"asked {len(rows)} questions of {DEV_SET.name}")
    return asked


def validation_data(models: Models, log) -> dict[str, list[Asked]]:
    _, _, valid = squad_split()
    out = {}
    for article in valid:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        out[article.title] = ask_rows(index, rows, gold, article.title, models)
    for stem in VALIDATION_TEXTS:
        index = text_index(stem)
        rows, gold = our_rows(TEXT_SETS / f"{stem}.jsonl", index)
        out[stem] = ask_rows(index, rows, gold, stem, models)
    reviews = []
    for article in amazon_split()["validation"]:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        reviews += ask_rows(index, rows[::2], gold[::2], "Amazon validation reviews", models)
    out["Amazon validation reviews"] = reviews
    log(f"validation: {', '.join(f'{k} ({len(v)})' for k, v in out.items())}")
    return out


def fit(asked: list[Asked]) -> AnswerModel:
    from sklearn.linear_model import LogisticRegression

    names = list(asked[0].features[0])
    X = np.array([[f[n] for n in names] for a in asked for f in a.features])
    y = np.array([lab for a in asked for lab in a.labels], dtype=int)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=4000).fit((X - mean) / scale, y)
    return AnswerModel(names, mean.round(6).tolist(), scale.round(6).tolist(), model.coef_[0].round(6).tolist(),
                       round(float(model.intercept_[0]), 6), 0.5, {})


Pick = tuple[float, float, bool, bool]     # (confidence, F1 of the chosen answer, answerable, chosen answer right)


def choose(model: AnswerModel, asked: list[Asked]) -> list[Pick]:
    """The model's pick for each question and its probability."""
    out = []
    for a in asked:
        probs = [model.probability(f) for f in a.features]
        k = int(np.argmax(probs))
        out.append((probs[k], a.f1[k], a.answerable, a.labels[k]))
    return out


def abstain_threshold(sets: list[list[Pick]], budget: float = FALSE_ABSTENTION) -> float:
    """The highest threshold whose mean false abstention over the sets is at most `budget`."""
    levels = sorted({p for picks in sets for p, *_ in picks})
    best = 0.0
    for t in levels:
        rates = [np.mean([p < t for p, _, ok, _ in picks if ok]) for picks in sets if any(ok for _, _, ok, _ in picks)]
        if np.mean(rates) <= budget + 1e-12:
            best = t
        else:
            break
    return float(best)


def confident_threshold(sets: list[list[Pick]], floor: float, precision: float = PRECISION) -> float | None:
    """The lowest threshold (at or above `floor`) at which answers given are right at least `precision` of
    the time, each set weighted equally; None when no threshold reaches it."""
    levels = sorted({p for picks in sets for p, *_ in picks if p >= floor})
    for t in levels:
        right = given = 0.0
        for picks in sets:
            n = len(picks)
            right += sum(r for p, _, _, r in picks if p >= t) / n
            given += sum(1 for p, *_ in picks if p >= t) / n
        if given > 0 and right / given >= precision:
            return float(t)
    return None


def summarise(picks: list[Pick], threshold: float, confident: float | None) -> dict:
    from sklearn.metrics import roc_auc_score

    has = [(p, f1) for p, f1, ok, _ in picks if ok]
    no = [p for p, _, ok, _ in picks if not ok]
    sure = [r for p, _, _, r in picks if confident is not None and p >= confident]
    unsure = [p for p, *_ in picks if p >= threshold and (confident is None or p < confident)]
    auc = roc_auc_score([ok for _, _, ok, _ in picks], [p for p, *_ in picks]) if has and no else None
    return {"questions": len(picks),
            "f1_answered_all": round(float(np.mean([f1 for _, f1 in has])), 4) if has else None,
            "f1_at_threshold": round(float(np.mean([f1 if p >= threshold else 0.0 for p, f1 in has])), 4) if has else None,
            "false_abstention": round(float(np.mean([p < threshold for p, _ in has])), 4) if has else None,
            "abstention_unanswerable": round(float(np.mean([p < threshold for p in no])), 4) if no else None,
            "confident_share": round(len(sure) / len(picks), 4),
            "confident_precision": round(float(np.mean(sure)), 4) if sure else None,
            "unsure_share": round(len(unsure) / len(picks), 4),
            "answerable_auc": round(float(auc), 4) if auc is not None else None}


def fit_answer_model(log=print, reader: Reader | None = None) -> AnswerModel:
    started = time.time()
    placeholder = AnswerModel([], [], [], [], 0.0, 0.0, {"reading": READING})
    models = Models(reader or Reader(), placeholder)
    asked = fitting_data(models, log)
    model = fit(asked)
    rows = sum(len(a.features) for a in asked)
    log(f"fitted on {len(asked)} questions ({rows} candidates, {sum(l for a in asked for l in a.labels)} right) "
        f"in {time.time() - started:.0f} s; weights " + json.dumps(dict(zip(model.features, model.coef))))
    validation = validation_data(models, log)
    picks = {k: choose(model, v) for k, v in validation.items()}
    model.threshold = round(abstain_threshold(list(picks.values())), 6)
    confident = confident_threshold(list(picks.values()), model.threshold)
    model.confident = None if confident is None else round(confident, 6)
    per_set = {k: summarise(v, model.threshold, model.confident) for k, v in picks.items()}
    per_set["pooled"] = summarise([p for v in picks.values() for p in v], model.threshold, model.confident)
    groups = {}
    for a in asked:
        groups[a.group] = groups.get(a.group, 0) + 1
    model.meta = {"reading": READING, "fitted_on": groups, "fitted_questions": len(asked), "fitted_candidates": rows,
                  "thresholds_chosen_on": list(validation),
                  "rules": {"false_abstention_at_most": FALSE_ABSTENTION, "confident_precision_at_least": PRECISION},
                  "validation": per_set, "seconds": round(time.time() - started)}
    ANSWER_MODEL_FILE.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    log(f"thresholds: abstain below {model.threshold}, confident from {model.confident}; validation {json.dumps(per_set)}")
    return model
