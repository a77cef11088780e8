"""SQuAD 2.0 files as whole documents, and the official SQuAD v2 scores.

Each article becomes one document: its paragraphs in order, a blank line between them. Every answer's
offset is moved from its paragraph into that document, so a question can be asked against the whole
article and its answer located in the text the index holds.
"""
from __future__ import annotations

import collections
import gzip
import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

PARAGRAPH_BREAK = "\n\n"


class SquadError(ValueError):
    """A file that is not SQuAD 2.0 JSON; the message says why."""


@dataclass
class SquadAnswer:
    text: str
    start: int           # character offsets into the article's document text
    end: int


@dataclass
class SquadQuestion:
    id: str
    question: str
    answers: list[SquadAnswer]       # empty when unanswerable
    paragraph: int

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class SquadArticle:
    title: str
    text: str
    paragraphs: list[tuple[int, int]] = field(default_factory=list)   # (start, end) of each paragraph
    questions: list[SquadQuestion] = field(default_factory=list)

    @property
    def slug(self) -> str:
        """A file-name-safe form of the title."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.title).strip("_") or "article"


def load_squad(path: Path | str) -> list[SquadArticle]:
    """Articles of a SQuAD 2.0 file; raises SquadError for anything else."""
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                data = json.load(fh)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
        return [_article(a) for a in data["data"]]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SquadError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise SquadError(f"{path} is not SQuAD 2.0 JSON ({type(exc).__name__}: {exc})") from None


def _article(raw: dict) -> SquadArticle:
    parts, paragraphs, questions = [], [], []
    offset = 0
    for number, paragraph in enumerate(raw["paragraphs"]):
        context = paragraph["context"]
        if parts:
            offset += len(PARAGRAPH_BREAK)
        paragraphs.append((offset, offset + len(context)))
        for qa in paragraph["qas"]:
            answers = [] if qa.get("is_impossible") else [
                SquadAnswer(a["text"], offset + a["answer_start"], offset + a["answer_start"] + len(a["text"]))
                for a in qa["answers"]]
            for a in answers:
                if context[a.start - offset:a.end - offset] != a.text:
                    raise ValueError(f"answer {a.text!r} of {qa['id']} is not at its answer_start")
            questions.append(SquadQuestion(str(qa["id"]), qa["question"], answers, number))
        parts.append(context)
        offset += len(context)
    return SquadArticle(str(raw["title"]), PARAGRAPH_BREAK.join(parts), paragraphs, questions)


# --- the official SQuAD v2 scoring (normalisation, EM, F1, best threshold) ---

def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (SQuAD's definition)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def compute_exact(gold: str, pred: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(pred))


def compute_f1(gold: str, pred: str) -> float:
    gold_toks, pred_toks = normalize_answer(gold).split(), normalize_answer(pred).split()
    if not gold_toks or not pred_toks:
        return float(gold_toks == pred_toks)     # no-answer: 1 if both are empty
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_toks), same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def squad_scores(questions: list[SquadQuestion], predictions: dict[str, str],
                 na_probs: dict[str, float]) -> dict:
    """EM/F1 overall, HasAns and NoAns, and the best no-answer threshold (official v2 definitions).

    `predictions` maps a question id to the predicted text ("" = no answer); `na_probs` to the
    probability that the question has no answer (1 - confidence).
    """
    exact, f1 = {}, {}
    for q in questions:
        golds = [a.text for a in q.answers if normalize_answer(a.text)] or [""]
        pred = predictions.get(q.id, "")
        exact[q.id] = max(compute_exact(g, pred) for g in golds)
        f1[q.id] = max(compute_f1(g, pred) for g in golds)
    has = [q.id for q in questions if q.answerable]
    no = [q.id for q in questions if not q.answerable]
    out = {"total": len(questions), "exact": _mean(exact, None), "f1": _mean(f1, None),
           "HasAns_total": len(has), "NoAns_total": len(no)}
    if has:
        out.update(HasAns_exact=_mean(exact, has), HasAns_f1=_mean(f1, has))
    if no:
        out.update(NoAns_exact=_mean(exact, no), NoAns_f1=_mean(f1, no))
    has_ans = {q.id: q.answerable for q in questions}
    for name, scores in (("exact", exact), ("f1", f1)):
        best, threshold = _best_threshold(predictions, scores, na_probs, has_ans)
        out[f"best_{name}"], out[f"best_{name}_thresh"] = best, threshold
    return out


def _mean(scores: dict, ids) -> float:
    ids = list(scores) if ids is None else ids
    return 100.0 * sum(scores[i] for i in ids) / len(ids) if ids else 0.0


def _best_threshold(preds, scores, na_probs, has_ans) -> tuple[float, float]:
    """The official find_best_thresh: sweep the no-answer probability, abstaining above it."""
    current = best = sum(1 for q, a in has_ans.items() if not a)
    threshold = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        if qid not in scores:
            continue
        if has_ans[qid]:
            diff = scores[qid]
        else:
            diff = -1 if preds.get(qid) else 0
        current += diff
        if current > best:
            best, threshold = current, na_probs[qid]
    return 100.0 * best / len(scores) if scores else 0.0, threshold
