"""The evaluation report: Markdown for people, JSON for tools, a PNG plot; and the product targets."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .configurations import COMPARED
from .failures import CAUSES
from .plot import plot_tradeoff

# metric, label, direction, target: the SQuAD-trained reader's targets (issue 18), checked on every split
# but dev and on the test splits' means
TARGETS = [
    {"metric": "hit@1", "label": "cited sentence hit@1", "op": ">=", "target": 0.85},
    {"metric": "f1", "label": "short-answer F1", "op": ">=", "target": 0.68},
    {"metric": "abstention_unanswerable", "label": "abstention on unanswerable", "op": ">=", "target": 0.70},
    {"metric": "false_abstention", "label": "false abstention on answerable", "op": "<=", "target": 0.05},
    {"metric": "exact_offsets", "label": "citation offsets exact", "op": ">=", "target": 1.00},
    {"metric": "squad_f1", "label": "SQuAD v2 F1 (SQuAD articles)", "op": ">=", "target": 0.70},
]
OVERVIEW = [("hit@1", "hit@1"), ("f1", "F1"), ("abstention_unanswerable", "abst. unans."),
            ("false_abstention", "false abst."), ("squad_f1", "SQuAD v2 F1")]
COLUMNS = [
    ("hit@1", "hit@1"), ("hit@3", "hit@3"), ("recall@5", "R@5"), ("mrr", "MRR"), ("em", "EM"), ("f1", "F1"),
    ("contains_gold", "ans/cit ⊇ gold"), ("abstention_unanswerable", "abst. unans."),
    ("false_abstention", "false abst."), ("exact_offsets", "exact offsets"), ("answer_verbatim", "answer verbatim"),
    ("accuracy", "handled right"),
    ("latency_median_ms", "median ms"), ("latency_p95_ms", "p95 ms"),
]


def check_targets(metrics: dict, squad: dict | None = None, is_squad: bool = False) -> list[dict]:
    out = []
    metrics = {**metrics, "squad_f1": squad["f1"] / 100 if squad and is_squad else None}
    for t in TARGETS:
        value = metrics.get(t["metric"])
        out.append({**t, "value": value, "pass": _meets(t, value)})
    return out


def _meets(target: dict, value) -> bool | None:
    """Whether a value meets a target (None when there is no value)."""
    if value is None:
        return None
    return value >= target["target"] - 1e-9 if target["op"] == ">=" else value <= target["target"] + 1e-9


def write_report(data: dict, out: Path) -> None:
    (out / "report.json").write_text(_json(data) + "\n", encoding="utf-8")
    (out / "report.md").write_text(render_markdown(data), encoding="utf-8")
    plot_tradeoff(data["tradeoff"], out / "report.png")


def _json(data: dict) -> str:
    """Indented, except that each per-question record stays on one line (smaller, still diffable)."""
    rows: dict[str, dict] = {}

    def stub(row: dict) -> str:
        key = f"@row-{len(rows)}@"
        rows[key] = row
        return key

    shallow = {**data, "splits": {
        name: {**split, "per_question": {config: [stub(r) for r in records]
                                         for config, records in split.get("per_question", {}).items()}}
        for name, split in data["splits"].items()}}
    text = json.dumps(shallow, indent=1, ensure_ascii=False)
    for key, row in rows.items():
        text = text.replace(f'"{key}"', json.dumps(row, ensure_ascii=False), 1)
    return text


def render_markdown(data: dict) -> str:
    lines = [
        "# Evaluation report",
        "",
        f"Generated {data['generated_at']} by `qa eval` in {data['seconds']} s. "
        f"The product's abstention threshold is the answer model's, **{data['threshold']:.4f}** (chosen on the "
        "validation sets by `qa train`, `models/ANSWER_MODEL_CARD.md`).",
        "",
        "Configurations:",
        "",
    ]
    lines += [f"- **{name}**: {text}" for name, text in data["configurations"].items()]
    lines += [
        "",
        "Retrieval metrics (hit@k, R@5, MRR) are over answerable questions whose evidence was found; a sentence or "
        "chunk counts when its span overlaps the evidence phrase. EM, F1 and \"ans/cit ⊇ gold\" are over answerable "
        "questions at the threshold (an abstention scores 0, as in SQuAD v2). \"Exact offsets\" is the share of "
        "citations (from the run at threshold 0) whose file text between start and end is the cited text, "
        "whitespace aside; \"answer verbatim\" is the same check on the short answer's own offsets. \"Handled "
        "right\" is the share of all questions answered right (gold answer in the answer or its citations, and the "
        "top sentence a gold one) or, if unanswerable, abstained on. Latency is question to answer, in ms, wall "
        f"clock (load average {data.get('load_average')} when the run ended: above the CPU count, other work was "
        "competing and latencies are inflated).",
        "",
    ]
    lines += _overview(data)
    lines += _formats_section(data)
    lines += _tiers_section(data)
    lines += _squad_section(data)
    lines += _backend_section(data)
    for name, split in data["splits"].items():
        lines += _split_section(name, split)
    lines += _failure_sections(data)
    return "\n".join(lines)


def _overview(data: dict) -> list[str]:
    """Every split on one table: the product (hybrid) beside the previous configuration and the baseline."""
    configs = [c for c in COMPARED if any(c in s["metrics"] for s in data["splits"].values())]
    lines = ["## Overview: the product beside the previous configuration, same run", "",
             "Roles: *dev* tuned retrieval and trained the reader; *validation* chose the answer model's "
             "threshold; *test* texts were never fitted or chosen on. SQuAD v2 F1 is the official score "
             "(abstention at the threshold; an answer to an unanswerable question scores 0).", "",
             "| split | role | kind | questions (unans.) | " + " | ".join(
                 f"{label} {c}" for _, label in OVERVIEW for c in configs) + " |",
             "|---|---|---|---:|" + "---:|" * (len(OVERVIEW) * len(configs))]
    for name, split in data["splits"].items():
        if split.get("role") == "format":
            continue            # in their own table, beside the split they repeat
        cells = []
        for key, _ in OVERVIEW:
            for c in configs:
                metrics = dict(split["metrics"].get(c) or {})
                metrics["squad_f1"] = (split.get("squad_v2", {}).get(c) or {}).get("f1")
                value = metrics.get(key)
                value = value / 100 if key == "squad_f1" and value is not None else value
                cells.append(_fmt(value, key))
        lines.append(f"| {name} | {split.get('role', '')} | {split.get('kind', '')} | "
                     f"{split['rows']} ({split['rows'] - split['answerable']}) | " + " | ".join(cells) + " |")
    for role, pooled in data.get("pooled", {}).items():
        cells = []
        for key, _ in OVERVIEW:
            for c in configs:
                value = (pooled.get(c) or {}).get(key)
                cells.append(_fmt(value, key))
        lines.append(f"| **all {role} splits, mean** | {role} | | {pooled['rows']} | " + " | ".join(cells) + " |")
    lines += _mean_targets(data, configs)
    lines += ["", "![answered right against abstained right](report.png)", ""]
    return lines


def _mean_targets(data: dict, configs: list[str]) -> list[str]:
    """The targets on the means: the test splits' for the answers, the SQuAD (validation) articles' for
    SQuAD v2 F1; and how far any threshold could move abstention (the separation, a bound, not a result)."""
    pooled = data.get("pooled", {})
    test, validation = pooled.get("test", {}), pooled.get("validation", {})
    if not test:
        return []
    shown = [c for c in configs if c in test or c in validation]
    lines = ["", "Targets on the means (test splits; SQuAD v2 F1 on the SQuAD validation articles):", "",
             "| metric | target | " + " | ".join(shown) + " | the product (hybrid) |", "|---|---|" + "---:|" * len(shown) + "---|"]
    for t in TARGETS:
        source = validation if t["metric"] == "squad_f1" else test
        values = [(source.get(c) or {}).get(t["metric"]) for c in shown]
        verdict = {None: "–", True: "pass", False: "**miss**"}[_meets(t, (source.get("hybrid") or {}).get(t["metric"]))]
        lines.append(f"| {t['label']} | {t['op']} {t['target']:.2f} | " + " | ".join(_fmt(v, t["metric"]) for v in values)
                     + f" | {verdict} |")
    separation = data.get("separation", {}).get("test", {})
    if separation:
        budget = next(iter(separation.values()))["false_abstention_at_most"]
        lines += ["", f"Separation (test splits): the most abstention on unanswerable questions any one threshold "
                      f"gives at mean false abstention <= {budget:.2f}, that threshold picked on the test splits "
                      "themselves (a bound on what re-thresholding could do, not a result): " + "; ".join(
                          f"{c} {v['abstention']:.3f} (at {v['threshold']:.3f})" for c, v in separation.items()) + "."]
    return lines


TIER_COLUMNS = [("confident_share", "confident"), ("confident_precision", "right when confident"),
                ("unsure_share", "unsure"), ("unsure_precision", "right when unsure"), ("abstained_share", "abstained"),
                ("abstention_unanswerable", "abstention on unanswerable"), ("false_abstention", "false abstention")]


def _tiers_section(data: dict) -> list[str]:
    """The three tiers a user sees, per split: how often each is shown and how often it is right."""
    configs = [c for c in COMPARED[:2] if any(c in s["metrics"] for s in data["splits"].values())]
    confident = data.get("confident", {})
    lines = ["## Confidence tiers: how often each is shown, and how often it is right", "",
             "Shares are of all questions; \"right\" is the answer holding the gold answer and its first citation "
             "a gold sentence (an answer to an unanswerable question is wrong). Thresholds: "
             + "; ".join(f"{c}: abstain below {data['thresholds'][c]:.4f}, confident from "
                         + (f"{confident[c]:.4f}" if confident.get(c) is not None else "never")
                         for c in configs if c in data["thresholds"]) + ".", "",
             "| split | role | config | " + " | ".join(label for _, label in TIER_COLUMNS) + " |",
             "|---|---|---|" + "---:|" * len(TIER_COLUMNS)]
    rows = [(name, s.get("role", ""), s["metrics"]) for name, s in data["splits"].items() if s.get("role") != "format"]
    rows += [(f"**all {role} splits, mean**", role, pooled) for role, pooled in data.get("pooled", {}).items()]
    for name, role, metrics in rows:
        for c in configs:
            m = metrics.get(c)
            if m:
                lines.append(f"| {name} | {role} | {c} | " + " | ".join(_fmt(m.get(k), k) for k, _ in TIER_COLUMNS) + " |")
    return lines + [""]


def _squad_section(data: dict) -> list[str]:
    """The official SQuAD v2 scores on the SQuAD splits, with the floor that always abstaining scores."""
    squad = [(n, s) for n, s in data["splits"].items() if s.get("kind") == "squad"]
    if not squad:
        return []
    configs = [c for c in COMPARED if any(c in s.get("squad_v2", {}) for _, s in squad)]
    lines = ["## SQuAD v2, official scores", "",
             "F1 over all questions (abstention at the threshold), HasAns F1 over answerable, NoAns over "
             "unanswerable ones; always abstaining scores the share of unanswerable questions.", "",
             "| split | role | config | F1 | HasAns F1 | NoAns F1 | always abstain |", "|---|---|---|---:|---:|---:|---:|"]
    for name, s in squad:
        for c in configs:
            v = s["squad_v2"].get(c)
            if v:
                floor = 100.0 * v.get("NoAns_total", 0) / v["total"] if v.get("total") else None
                lines.append(f"| {name} | {s.get('role', '')} | {c} | {_pct(v.get('f1'))} | {_pct(v.get('HasAns_f1'))} | "
                             f"{_pct(v.get('NoAns_f1'))} | {_pct(floor)} |")
    return lines + [""]


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1f}"


FORMAT_TOLERANCE = 0.02      # hit@1 of a PDF or Word version within this of the text's (issue 19)


def format_rows(data: dict) -> list[dict]:
    """Each PDF or Word version of a split beside the text split, same run, the product (hybrid)."""
    rows = []
    for name, split in data["splits"].items():
        text = data["splits"].get(split.get("of") or "")
        if split.get("role") != "format" or text is None:
            continue
        ours, theirs = split["metrics"]["hybrid"], text["metrics"]["hybrid"]
        delta = abs(ours["hit@1"] - theirs["hit@1"]) if None not in (ours["hit@1"], theirs["hit@1"]) else None
        rows.append({"split": name, "of": split["of"], "rows": split["rows"], "source": split["sources"][0],
                     "hit@1": ours["hit@1"], "text_hit@1": theirs["hit@1"], "delta": delta,
                     "f1": ours["f1"], "text_f1": theirs["f1"], "same_citation": split.get("same_citation"),
                     "exact_offsets": ours["exact_offsets"], "missing_evidence": len(split["missing_evidence"]),
                     "within": delta is not None and delta <= FORMAT_TOLERANCE + 1e-9})
    return rows


def _formats_section(data: dict) -> list[str]:
    rows = format_rows(data)
    if not rows:
        return []
    lines = ["## Formats: the same questions asked of the PDF and Word versions, same run", "",
             "The documents typeset as PDF and .docx (`data/formats/`) indexed on their own; the evidence is "
             "located in the text read out of them. The product (hybrid) on each, beside the text split. "
             f"Target: hit@1 within {FORMAT_TOLERANCE:.2f} of the text's. \"same top citation\" is the share of "
             "questions whose first cited sentence reads the same (whitespace aside) as from the text.", "",
             "| split | document | questions | hit@1 | text hit@1 | Δ | F1 | text F1 | same top citation | "
             "exact offsets | evidence not found |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['split']} | `{r['source']}` | {r['rows']} | {_fmt(r['hit@1'], 'hit@1')} | "
                     f"{_fmt(r['text_hit@1'], 'hit@1')} | {_fmt(r['delta'], 'delta')} | {_fmt(r['f1'], 'f1')} | "
                     f"{_fmt(r['text_f1'], 'f1')} | {_fmt(r['same_citation'], 'same')} | "
                     f"{_fmt(r['exact_offsets'], 'exact_offsets')} | {r['missing_evidence']} |")
    held = all(r["within"] for r in rows)
    lines += ["", f"hit@1 within {FORMAT_TOLERANCE:.2f} of the text's on " +
              ("every PDF and Word version." if held else "**not** every PDF and Word version."), ""]
    return lines


BACKEND_METRICS = ("hit@1", "f1", "abstention_unanswerable", "false_abstention", "exact_offsets")
BACKEND_TOLERANCE = {"hybrid-onnx": 0.0, "hybrid-onnx-int8": 0.01}     # fp32 must be equal; int8 within 0.01


def backend_differences(split: dict, variant: str, reference: str) -> dict | None:
    """How far `variant`'s figures on one split are from the reference backend's, and how many answers differ."""
    ours, ref = split["metrics"].get(variant), split["metrics"].get(reference)
    if not ours or not ref:
        return None
    deltas = {k: abs(ours[k] - ref[k]) for k in BACKEND_METRICS
              if ours.get(k) is not None and ref.get(k) is not None}
    squad = split.get("squad_v2", {})
    if squad.get(variant) and squad.get(reference):
        deltas["squad_f1"] = abs(squad[variant]["f1"] - squad[reference]["f1"]) / 100
    pairs = zip(split["per_question"][variant], split["per_question"][reference])
    differ = sum((a["answered"], a["answer"]) != (b["answered"], b["answer"]) for a, b in pairs)
    return {"max_delta": max(deltas.values(), default=0.0), "worst": max(deltas, key=deltas.get, default=None),
            "answers_differ": differ, "latency_ms": ours.get("latency_median_ms"),
            "reference_latency_ms": ref.get("latency_median_ms")}


def _backend_section(data: dict) -> list[str]:
    """The product on torch, on ONNX Runtime fp32 and with an int8 reader, split by split (issue: ONNX)."""
    names = data.get("backends", {})          # backend variant -> the configuration that ran it
    reference = names.get("hybrid-torch")
    variants = [v for v in BACKEND_TOLERANCE if v in names]
    if reference is None or not variants:
        return []
    shown = ", ".join(f"`{v}` is the configuration `{names[v]}`" for v in ["hybrid-torch", *variants]
                      if names[v] != v)
    lines = ["## Backends: the product on torch and on ONNX Runtime, same run", "",
             "Largest difference from torch over hit@1, F1, abstention, false abstention, exact offsets "
             "and SQuAD v2 F1; answers that differ (text or abstention); median latency (ms). fp32 must be equal, "
             "int8 within 0.01 on every split to be kept." + (f" Here {shown} (the default backend)." if shown else ""),
             "",
             "| split | questions | torch ms | " + " | ".join(f"{v}: max Δ | differ | ms" for v in variants) + " |",
             "|---|---:|---:|" + "---:|---:|---:|" * len(variants)]
    verdict = {v: True for v in variants}
    for name, split in data["splits"].items():
        if split.get("role") == "format":
            continue
        cells, ref_ms = [], None
        for v in variants:
            d = backend_differences(split, names[v], reference)
            if d is None:
                cells.append("– | – | –")
                continue
            ref_ms = d["reference_latency_ms"]
            verdict[v] &= d["max_delta"] <= BACKEND_TOLERANCE[v] + 1e-9
            worst = f" ({d['worst']})" if d["max_delta"] > 0 else ""
            cells.append(f"{d['max_delta']:.3f}{worst} | {d['answers_differ']} | {_fmt(d['latency_ms'], 'latency')}")
        lines.append(f"| {name} | {split['rows']} | {_fmt(ref_ms, 'latency')} | " + " | ".join(cells) + " |")
    lines += [""] + [f"- **{v}**: " + _verdict(verdict[v], BACKEND_TOLERANCE[v]) for v in variants] + [""]
    return lines


def _verdict(held: bool, tolerance: float) -> str:
    goal = "equal to torch" if tolerance == 0 else f"within {tolerance:.2f} of torch"
    return f"{goal} on every split." if held else f"**not** {goal} on every split."


def _split_section(name: str, split: dict) -> list[str]:
    lines = [
        f"## {name}",
        "",
        f"{split['rows']} questions ({split['answerable']} answerable) from `{split['dataset']}` on "
        f"`{', '.join(split['sources'])}` (index `{split['index']}`, built {split.get('index_built_at')})."
        + (" **Warning: the index is not what the indexing code builds from its sources now; rebuild it.**" if split.get("index_stale") else ""),
        "",
        "| configuration | " + " | ".join(label for _, label in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for config, metrics in split["metrics"].items():
        cells = [_fmt(metrics.get(key), key) for key, _ in COLUMNS]
        lines.append(f"| {config} | " + " | ".join(cells) + " |")
    if split.get("missing_evidence"):
        lines += ["", f"Evidence not found in the document (dataset to fix): {', '.join(split['missing_evidence'])}."]
    if split.get("targets"):
        lines += ["", "Targets, hybrid:", "", "| metric | target | value | |", "|---|---|---:|---|"]
        for t in split["targets"]:
            verdict = "n/a" if t["pass"] is None else ("pass" if t["pass"] else "**miss**")
            lines.append(f"| {t['label']} | {t['op']} {t['target']:.2f} | {_fmt(t['value'], t['metric'])} | {verdict} |")
    lines.append("")
    return lines


def _failure_sections(data: dict) -> list[str]:
    lines = ["## Failed questions (hybrid)", ""]
    lines += [f"- **{cause}**: {text}" for cause, text in CAUSES.items()]
    for name, split in data["splits"].items():
        failures = split.get("failures", [])
        counts = Counter(f["cause"] for f in failures)
        lines += ["", f"### {name}: {len(failures)} of {split['rows']}"
                  + (" (" + ", ".join(f"{c} {n}" for c, n in counts.most_common()) + ")" if counts else ""), ""]
        if not failures:
            continue
        lines += ["| id | cause | question | expected | returned | conf. | F1 of answer |", "|---|---|---|---|---|---:|---:|"]
        for f in sorted(failures, key=lambda f: (list(CAUSES).index(f["cause"]), f["id"])):
            expected = " / ".join(f["expected"]) if f["expected"] else "(abstain)"
            returned = f["returned"] or "(empty)"
            if f["abstained"]:
                returned = f"(abstained; would say: {returned})"
            if f["cause"] in ("retrieval miss", "sentence ranking", "answer outside citation", "second sentence"):
                returned += f" — cited: {_clip(' | '.join(f['cited']), 160)}"
            if f["cause"] == "retrieval miss":
                returned += f" (gold chunk at rank {f['chunk_rank'] or '>50'})"
            elif f["cause"] == "sentence ranking":
                returned += f" (gold sentence at rank {f['sentence_rank'] or '>top chunks'})"
            f1 = "" if f["f1"] is None else f"{f['f1']:.2f}"
            lines.append(f"| {f['id']} | {f['cause']} | {_cell(f['question'])} | {_cell(_clip(expected, 120))} | "
                         f"{_cell(_clip(returned, 260))} | {f['confidence']:.2f} | {f1} |")
    return lines


def summary(data: dict) -> str:
    out = [f"threshold {data['threshold']:.4f} (answer model)"]
    keys = ["hit@1", "f1", "contains_gold", "abstention_unanswerable", "false_abstention", "exact_offsets",
            "latency_median_ms"]
    out.append(f"{'split':<14} {'config':<9} " + " ".join(f"{k[:10]:>10}" for k in keys))
    for name, split in data["splits"].items():
        for config in COMPARED:
            m = split["metrics"].get(config)
            if m:
                out.append(f"{name:<14} {config:<9} " + " ".join(f"{_fmt(m.get(k), k):>10}" for k in keys))
        if split.get("targets"):
            missed = [t["label"] for t in split["targets"] if t["pass"] is False]
            out.append(f"{'':<14} targets: " + ("all met" if not missed else "missed " + "; ".join(missed)))
        if split.get("failure_counts"):
            out.append(f"{'':<14} hybrid failures: " + ", ".join(f"{c} {n}" for c, n in split["failure_counts"].items()))
    return "\n".join(out)


def _fmt(value, key: str) -> str:
    if value is None:
        return "–"
    if key.startswith("latency"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
