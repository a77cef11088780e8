"""Fit the answer model on the reader's candidates over text the reader never read, then choose its
abstention threshold on the validation articles and validation texts.

Fitted on: the answer model's article (SQuAD, with its hand-written unanswerable questions), questions of
the reader's training articles asked against it (questions of one article asked against another are
unanswerable), and our own dev set over the Pakistan–US article with its unanswerable questions.
Threshold: the best SQuAD v2 F1 averaged over the validation articles and validation texts.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

import numpy as np

from ..config import DEFAULT_INDEX, PROJECT_ROOT
from ..evaluation import metrics as m
from ..evaluation.corpora import TEXT_SETS, squad_index, squad_rows, text_index
from ..evaluation.datasets import EvidenceLocator, Row, Span, load_dataset, read_source
from ..indexing.store import Index, load_index, normalise
from ..answering.answer_model import ANSWER_MODEL_FILE, AnswerModel
from ..evaluation.splits import VALIDATION_TEXTS, squad_split

DEV_SET = PROJECT_ROOT / "eval" / "article-dev.jsonl"
CROSS_QUESTIONS = 400          # questions of the reader's articles asked against another document
C = 1.0                        # inverse L2 strength; fixed, not tuned


@dataclass
class Asked:
    """One question's candidates, each with its features and whether it is right."""
    group: str
    answerable: bool
    features: list[dict]
    labels: list[bool]
    f1: list[float]             # SQuAD F1 of each candidate's answer (0 for unanswerable questions)


def ask_rows(index: Index, rows: list[Row], gold: list[list[Span]], group: str) -> list[Asked]:
    from ..answering.ask import answer_candidates

    out = []
    for row, spans in zip(rows, gold):
        candidates = answer_candidates(index, row.question, history=row.history or None)
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


def _our_rows(path, index: Index) -> tuple[list[Row], list[list[Span]]]:
    rows = load_dataset(path)
    sources = [d["source"] for d in index.manifest["sources"]]
    locator = EvidenceLocator({s: read_source(s) for s in sources})
    return rows, [locator.gold_spans(r) for r in rows]


def fitting_data(log) -> list[Asked]:
    reader_articles, answer_model_articles, _ = squad_split()
    rng = random.Random(0)
    asked = []
    for article in answer_model_articles:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        asked += ask_rows(index, rows, gold, article.title)
        others = [q for a in reader_articles for q in a.questions if q.answerable]
        cross = [Row(id=q.id, question=q.question, answers=[], evidence=[], answerable=False)
                 for q in rng.sample(others, CROSS_QUESTIONS)]
        asked += ask_rows(index, cross, [[] for _ in cross], f"other articles vs {article.title}")
        log(f"asked {len(rows)} + {len(cross)} questions of {article.title}")
    article_index = load_index(DEFAULT_INDEX)
    rows, gold = _our_rows(DEV_SET, article_index)
    asked += ask_rows(article_index, rows, gold, DEV_SET.name)
    log(f"asked {len(rows)} questions of {DEV_SET.name}")
    return asked


def validation_data(log) -> dict[str, list[Asked]]:
    _, _, valid = squad_split()
    out = {}
    for article in valid:
        index = squad_index(article)
        rows, gold = squad_rows(article, index)
        out[article.title] = ask_rows(index, rows, gold, article.title)
    for stem in VALIDATION_TEXTS:
        index = text_index(stem)
        rows, gold = _our_rows(TEXT_SETS / f"{stem}.jsonl", index)
        out[stem] = ask_rows(index, rows, gold, stem)
    log(f"validation: {', '.join(f'{k} ({len(v)})' for k, v in out.items())}")
    return out


def fit(asked: list[Asked]) -> AnswerModel:
    from sklearn.linear_model import LogisticRegression

    names = list(asked[0].features[0])
    X = np.array([[f[n] for n in names] for a in asked for f in a.features])
    y = np.array([lab for a in asked for lab in a.labels], dtype=int)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=2000).fit((X - mean) / scale, y)
    return AnswerModel(names, mean.round(6).tolist(), scale.round(6).tolist(), model.coef_[0].round(6).tolist(),
                       round(float(model.intercept_[0]), 6), 0.5, {})


def choose(model: AnswerModel, asked: list[Asked]) -> list[tuple[float, float, bool]]:
    """(confidence, F1 of the chosen answer, answerable) per question: the model's pick and its probability."""
    out = []
    for a in asked:
        probs = [model.probability(f) for f in a.features]
        k = int(np.argmax(probs))
        out.append((probs[k], a.f1[k], a.answerable))
    return out


def best_threshold(sets: list[list[tuple[float, float, bool]]]) -> float:
    """SQuAD v2's best threshold (answer at or above it, abstain below), maximising the mean over the
    validation sets of each set's F1, so that each text counts once however many questions it has."""
    candidates = sorted({p for picks in sets for p, _, _ in picks})
    best_t, best = 0.0, -1.0
    for t in [0.0] + candidates:
        score = sum(sum((f1 if ok else 0.0) if p >= t else (0.0 if ok else 1.0) for p, f1, ok in picks) / len(picks)
                    for picks in sets if picks)
        if score > best:
            best_t, best = t, score
    return float(best_t)


def summarise(picks: list[tuple[float, float, bool]], threshold: float) -> dict:
    has = [(p, f1) for p, f1, ok in picks if ok]
    no = [p for p, _, ok in picks if not ok]
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score([ok for _, _, ok in picks], [p for p, _, _ in picks]) if has and no else None
    return {"questions": len(picks),
            "f1_answered_all": round(float(np.mean([f1 for _, f1 in has])), 4) if has else None,
            "f1_at_threshold": round(float(np.mean([f1 if p >= threshold else 0.0 for p, f1 in has])), 4) if has else None,
            "false_abstention": round(float(np.mean([p < threshold for p, _ in has])), 4) if has else None,
            "abstention_unanswerable": round(float(np.mean([p < threshold for p in no])), 4) if no else None,
            "answerable_auc": round(float(auc), 4) if auc is not None else None}


def fit_answer_model(log=print) -> AnswerModel:
    started = time.time()
    asked = fitting_data(log)
    model = fit(asked)
    rows = sum(len(a.features) for a in asked)
    log(f"fitted on {len(asked)} questions ({rows} candidates, {sum(l for a in asked for l in a.labels)} right) "
        f"in {time.time() - started:.0f} s; weights "
        + json.dumps(dict(zip(model.features, model.coef))))
    validation = validation_data(log)
    picks = {k: choose(model, v) for k, v in validation.items()}
    pooled = [p for v in picks.values() for p in v]
    model.threshold = round(best_threshold(list(picks.values())), 6)
    per_set = {k: summarise(v, model.threshold) for k, v in picks.items()}
    per_set["pooled"] = summarise(pooled, model.threshold)
    model.meta = {"fitted_on": [a for a in dict.fromkeys(x.group for x in asked)],
                  "fitted_questions": len(asked), "fitted_candidates": rows,
                  "threshold_chosen_on": list(validation), "validation": per_set,
                  "seconds": round(time.time() - started)}
    ANSWER_MODEL_FILE.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    log(f"threshold {model.threshold} (best SQuAD v2 F1 on validation); validation {json.dumps(per_set)}")
    return model
