"""`qa eval`: evaluate every configuration on every split, write the report."""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..config import DEFAULT_INDEX, PROJECT_ROOT, RetrievalSettings
from ..indexing.store import Index, load_index
from . import report as report_mod
from .configurations import (COMPARED, CONFIGURATIONS, DESCRIPTIONS, backend_names,
                             make_configurations)
from .corpora import (TEXT_SETS, TEXTS, WORK, format_index, format_versions, squad_document, squad_index,
                      squad_rows, text_index)
from .datasets import DatasetError, EvidenceLocator, Row, Span, load_dataset, read_source
from .failures import classify
from .freshness import index_is_stale
from .scoring import aggregate, curve_point, is_right, score_row, threshold_curve
from .previous import previous_commit, previous_models
from .splits import VALIDATION_TEXTS, squad_split
from .squad import SquadAnswer, SquadArticle, SquadError, SquadQuestion, load_squad, squad_scores

EVAL_DIR = PROJECT_ROOT / "eval"
DEV = EVAL_DIR / "article-dev.jsonl"
TEST = EVAL_DIR / "article-test.jsonl"
SECOND = EVAL_DIR / "second-test.jsonl"
SECOND_SOURCE = PROJECT_ROOT / "data" / "second"
SECOND_INDEX = EVAL_DIR / ".second-index"

@dataclass
class Split:
    name: str
    dataset: Path
    rows: list[Row]
    index: Index
    gold: list[list[Span]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    predictions: dict[str, list] = field(default_factory=dict)     # configuration -> one Prediction a row
    role: str = "test"        # dev (retrieval tuned, reader trained), validation (thresholds chosen), test,
                              # or format (a split's questions asked of its document as a PDF or Word file)
    kind: str = ""            # what kind of text it asks about
    of: str | None = None     # a format split: the name of the split it repeats


def split_role(path: Path) -> str:
    path = Path(path)
    if path.resolve() == DEV.resolve():
        return "dev"
    return "validation" if path.stem in VALIDATION_TEXTS else "test"


def run_evaluation(index=None, datasets=None, out=None, squad=None, previous: str | None = "default") -> int:
    """Evaluate and write report.md/.json/.png to `out` (default eval/); 0 unless the input is unusable.

    With neither `datasets` nor `squad`: our own sets (article dev/test, the second document, the
    texts in eval/texts/) and the SQuAD validation articles. `squad`: SQuAD 2.0 files, each article
    asked as one whole document. `previous`: the commit whose models are the previous product's column
    ("default": eval/previous.json's on a full run, none otherwise; None: no such column).
    """
    try:
        return _run(index, datasets, out, squad, previous)
    except (DatasetError, SquadError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1


def default_datasets() -> list[Path]:
    return [p for p in (DEV, TEST, SECOND) if p.exists()] + sorted(TEXT_SETS.glob("*.jsonl"))


def _run(index, datasets, out, squad=None, previous="default") -> int:
    started = time.perf_counter()
    out = Path(out) if out else EVAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    everything = not datasets and not squad
    paths = [Path(p) for p in datasets] if datasets else ([] if squad else default_datasets())
    squad_articles = _squad_articles(squad) if squad or everything else []
    if not paths and not squad_articles:
        print("qa eval: no Q&A files found (expected eval/article-dev.jsonl ...)", file=sys.stderr)
        return 1
    article = load_index(Path(index) if index else DEFAULT_INDEX)
    _log(f"index {article.folder} ({article.manifest['counts']['sentences']} sentences)")
    if index_is_stale(article.folder):
        _log(f"warning: {article.folder} is not what the indexing code builds from its sources now; "
             "rebuild it with `qa build --force`")
    settings = RetrievalSettings()
    if previous == "default":
        previous = previous_commit() if everything else None
    previous_dir = previous_models(previous, _log) if previous else None
    configurations = make_configurations(settings, previous=previous_dir)
    splits = [_split(p, article) for p in paths] + [_squad_split(a, role) for a, role in squad_articles]
    splits += [version for split in list(splits) for version in _format_splits(split)]
    for split in splits:
        # a format split is compared with its text split on the product alone
        chosen = [c for c in configurations if c.name == "hybrid"] if split.role == "format" else configurations
        _predict(split, chosen)
        _log(f"{split.name}: {len(split.rows)} questions x {len(chosen)} configurations")

    thresholds = {c.name: c.threshold for c in configurations}
    confident = {c.name: getattr(c, "confident", None) for c in configurations}
    result = _report_data(splits, settings, thresholds, time.perf_counter() - started, confident, previous)
    report_mod.write_report(result, out)
    print(report_mod.summary(result))
    print(f"wrote {out / 'report.md'}, {out / 'report.json'}, {out / 'report.png'} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


def _split(path: Path, article: Index) -> Split:
    rows = load_dataset(path)
    in_texts = path.resolve().parent == TEXT_SETS.resolve() and (TEXTS / f"{path.stem}.txt").exists()
    index = text_index(path.stem) if in_texts else _index_for(rows, article)
    sources = [d["source"] for d in index.manifest["sources"]]
    texts = stored_texts(index)
    locator = EvidenceLocator(texts)
    gold = [locator.gold_spans(r) for r in rows]
    for r, g in zip(rows, gold):
        if r.answerable and not g:
            _log(f"warning: {path.name} {r.id}: evidence not found in {', '.join(sources)}")
    kind = path.stem.split("-")[0] if in_texts else ("article" if index is article else "licence")
    return Split(path.stem, path, rows, index, gold, texts, role=split_role(path), kind=kind)


def _format_splits(split: Split) -> list[Split]:
    """The split's questions asked of its document typeset as PDF and Word files (data/formats/), with the
    evidence located in the text read out of them (what their citations' offsets point into)."""
    out = []
    for path in format_versions(split.dataset):
        index = format_index(path)
        texts = stored_texts(index)
        locator = EvidenceLocator(texts)
        gold = [locator.gold_spans(r) for r in split.rows]
        for r, g in zip(split.rows, gold):
            if r.answerable and not g:
                _log(f"warning: {split.dataset.name} {r.id}: evidence not found in {path.name}")
        out.append(Split(f"{split.name} ({path.suffix[1:]})", split.dataset, split.rows, index, gold, texts,
                         role="format", kind=split.kind, of=split.name))
    return out


def stored_texts(index: Index) -> dict[str, str]:
    """Each source's text as its citations' offsets see it: the file, or the text extracted from it."""
    return {d["source"]: (index.source_text(d["source"]) if d.get("text") else None) or read_source(d["source"])
            for d in index.manifest["sources"]}


def _squad_articles(files) -> list[tuple[SquadArticle, str]]:
    """(article, role) to evaluate: every article of the given files, or by default the validation
    articles of the committed SQuAD sample (its other articles trained the reader and answer model)."""
    if files:
        return [(a, "test") for f in files for a in load_squad(f)]
    return [(a, "validation") for a in squad_split()[2]]


def _squad_split(article: SquadArticle, role: str) -> Split:
    index = squad_index(article)
    rows, gold = squad_rows(article, index)
    sources = [d["source"] for d in index.manifest["sources"]]
    return Split(f"squad-{article.slug}", squad_document(article), rows, index, gold,
                 {s: read_source(s) for s in sources}, role=role, kind="squad")


def _index_for(rows: list[Row], article: Index) -> Index:
    """The article index if the rows' evidence is in it; else the second document's (built on demand)."""
    if _located_share(rows, [d["source"] for d in article.manifest["sources"]]) >= 0.5 or not SECOND_SOURCE.is_dir():
        return article
    from ..indexing.build import build
    from ..reading.documents import display_path, find_sources

    files, _ = find_sources([SECOND_SOURCE])
    if _located_share(rows, [display_path(f, PROJECT_ROOT) for f in files]) < 0.5:
        return article
    report = build([SECOND_SOURCE], SECOND_INDEX, force=index_is_stale(SECOND_INDEX))
    _log(f"second document index {SECOND_INDEX} " + ("up to date" if report.unchanged else "built"))
    return load_index(SECOND_INDEX)


def _stale(folder: Path) -> bool:
    """Indexes the evaluation builds itself (under eval/.work) are rebuilt when the indexing code changes;
    any other is compared with a fresh build of its sources."""
    return False if WORK.resolve() in Path(folder).resolve().parents else index_is_stale(folder)


def _located_share(rows: list[Row], sources: list[str]) -> float:
    answerable = [r for r in rows if r.answerable and r.evidence]
    if not answerable:
        return 1.0
    locator = EvidenceLocator.for_sources(sources)
    return sum(bool(locator.gold_spans(r)) for r in answerable) / len(answerable)


def _predict(split: Split, configurations: list) -> None:
    """Every configuration on every row, interleaved so that timing noise falls on all alike."""
    for c in configurations:
        c.prepare(split.index)
        split.predictions[c.name] = []
        if split.rows:
            c.run(split.rows[0])        # warm-up, untimed: first calls pay for lazy loading
    for row in split.rows:
        for c in configurations:
            split.predictions[c.name].append(c.run(row))


def _report_data(splits: list[Split], settings: RetrievalSettings, thresholds: dict[str, float],
                 seconds: float, confident: dict | None = None, previous: str | None = None) -> dict:
    threshold = thresholds["hybrid"]
    data = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "load_average": _load_average(),
        "threshold": threshold,
        "thresholds": thresholds,
        "confident": confident or {},
        "previous_commit": previous,
        "settings": asdict(settings),
        "configurations": {name: DESCRIPTIONS[name] for name in CONFIGURATIONS if name in thresholds},
        "backends": {name: runs_as for name, runs_as in backend_names().items() if runs_as in thresholds},
        "targets": report_mod.TARGETS,
        "splits": {},
    }
    for split in splits:
        entry = {
            "dataset": _shown(split.dataset),
            "role": split.role,
            "kind": split.kind,
            "index": _shown(split.index.folder),
            "index_build_id": split.index.build_id,
            "index_built_at": split.index.manifest.get("built_at"),
            "index_stale": _stale(split.index.folder),
            "sources": [d["source"] for d in split.index.manifest["sources"]],
            "rows": len(split.rows),
            "answerable": sum(r.answerable for r in split.rows),
            "missing_evidence": [r.id for r, g in zip(split.rows, split.gold) if r.answerable and not g],
            "metrics": {},
            "per_question": {},
        }
        entry["squad_v2"] = {}
        for name, preds in split.predictions.items():
            scored = [score_row(r, g, p, thresholds[name], split.texts, (confident or {}).get(name))
                      for r, g, p in zip(split.rows, split.gold, preds)]
            entry["metrics"][name] = aggregate(scored)
            entry["squad_v2"][name] = squad_v2(split.rows, preds, thresholds[name])
            entry["per_question"][name] = [_compact(s, p) for s, p in zip(scored, preds)]
            if name == "hybrid":
                entry["failures"] = [f for f in (classify(r, s, p) for r, s, p in zip(split.rows, scored, preds)) if f]
                entry["failure_counts"] = dict(Counter(f["cause"] for f in entry["failures"]).most_common())
        hybrid = split.predictions["hybrid"]
        right = [is_right(r, g, p) for r, g, p in zip(split.rows, split.gold, hybrid)]
        entry["curve"] = threshold_curve(split.rows, hybrid, split.gold)
        entry["at_threshold"] = curve_point(split.rows, hybrid, right, threshold)
        entry["targets"] = report_mod.check_targets(entry["metrics"]["hybrid"], entry["squad_v2"]["hybrid"],
                                                    split.kind == "squad") if split.role not in ("dev", "format") else None
        if split.of is not None:
            entry["of"] = split.of
            entry["same_citation"] = _same_citation(split, next(s for s in splits if s.name == split.of))
        data["splits"][split.name] = entry
    data["pooled"] = _pooled(data["splits"])
    data["tradeoff"] = _tradeoff(splits, thresholds)
    data["separation"] = _separation(splits)
    return data


def _same_citation(version: Split, text: Split) -> float:
    """Share of questions whose first cited sentence (hybrid, at threshold 0) reads the same, whitespace aside,
    from the PDF or Word version as from the text."""
    pairs = list(zip(version.predictions["hybrid"], text.predictions["hybrid"]))
    same = sum(bool(a.citations) == bool(b.citations) and (not a.citations or
               " ".join(a.citations[0].text.split()) == " ".join(b.citations[0].text.split())) for a, b in pairs)
    return same / len(pairs) if pairs else 1.0


def _pooled(entries: dict) -> dict:
    """Per role, each metric's mean over the splits of that role (each text counts once)."""
    out = {}
    for role in ("validation", "test"):
        chosen = [e for e in entries.values() if e["role"] == role]
        if not chosen:
            continue
        out[role] = {"rows": sum(e["rows"] for e in chosen), "splits": len(chosen)}
        for config in COMPARED:
            values = {}
            for key in ("hit@1", "f1", "abstention_unanswerable", "false_abstention", "exact_offsets",
                        "confident_share", "confident_precision", "unsure_share", "unsure_precision", "abstained_share"):
                got = [e["metrics"][config][key] for e in chosen
                       if config in e["metrics"] and e["metrics"][config].get(key) is not None]
                values[key] = sum(got) / len(got) if got else None
            squad = [e["squad_v2"][config]["f1"] / 100 for e in chosen if e["kind"] == "squad" and config in e["squad_v2"]]
            values["squad_f1"] = sum(squad) / len(squad) if squad else None
            out[role][config] = values
    return out


def _tradeoff(splits: list[Split], thresholds: dict[str, float]) -> dict:
    """Answered-right against abstained-right as the threshold moves, over the validation and test
    splits pooled, for the product and the previous configuration."""
    out = {}
    for role in ("validation", "test"):
        chosen = [s for s in splits if s.role == role]
        for config in COMPARED[:2]:
            rows = [(p.confidence, is_right(r, g, p), r.answerable)
                    for s in chosen for r, g, p in zip(s.rows, s.gold, s.predictions.get(config, []))]
            if not rows or all(a for _, _, a in rows) or not any(a for _, _, a in rows):
                continue
            levels = sorted({c for c, _, _ in rows})
            curve = [_trade_point(rows, t) for t in [0.0] + levels + [levels[-1] + 1e-6]]
            out[f"{role}, {config}"] = {"curve": curve, "chosen": _trade_point(rows, thresholds[config])}
    return out


def _separation(splits: list[Split], budget: float = 0.05) -> dict:
    """How well a configuration's confidence separates answerable from unanswerable questions, whatever
    threshold was chosen: the highest mean abstention on unanswerable questions that any one threshold gives
    while the mean false abstention (each split counting once) stays within `budget`. The threshold is
    picked on these very splits, so this is a bound on what re-thresholding could do, never a result."""
    out: dict = {}
    for role in ("validation", "test"):
        for config in COMPARED[:2]:
            sets = [[(p.confidence, r.answerable) for r, p in zip(s.rows, s.predictions[config])]
                    for s in splits if s.role == role and config in s.predictions]
            sets = [rows for rows in sets if rows]
            if not any(not a for rows in sets for _, a in rows):
                continue

            def rates(t: float) -> tuple[float, float]:
                false = [sum(c < t for c, a in rows if a) / sum(a for _, a in rows) for rows in sets
                         if any(a for _, a in rows)]
                right = [sum(c < t for c, a in rows if not a) / sum(not a for _, a in rows) for rows in sets
                         if any(not a for _, a in rows)]
                return sum(false) / len(false), sum(right) / len(right)

            levels = [0.0] + sorted({c for rows in sets for c, _ in rows})
            best = max(((rates(t)[1], t) for t in levels if rates(t)[0] <= budget + 1e-12), default=(0.0, 0.0))
            out.setdefault(role, {})[config] = {"false_abstention_at_most": budget,
                                                "abstention": round(best[0], 4), "threshold": round(best[1], 6)}
    return out


def _trade_point(rows: list[tuple[float, bool, bool]], t: float) -> dict:
    answerable = [(c, ok) for c, ok, a in rows if a]
    unanswerable = [c for c, _, a in rows if not a]
    return {"threshold": round(t, 6),
            "answered_right": sum(c >= t and ok for c, ok in answerable) / len(answerable),
            "abstained_right": sum(c < t for c in unanswerable) / len(unanswerable)}


def squad_v2(rows: list[Row], preds: list, threshold: float) -> dict:
    """The official SQuAD v2 scores: the answer given at the threshold ("" when abstaining), and
    1 - confidence as the no-answer probability for the best-threshold figures."""
    questions = [SquadQuestion(r.id, r.question, [SquadAnswer(a, 0, 0) for a in r.answers] if r.answerable else [], 0)
                 for r in rows]
    answers = {r.id: p.answer if p.answered(threshold) else "" for r, p in zip(rows, preds)}
    na_probs = {r.id: 1.0 - p.confidence if p.can_abstain else 0.0 for r, p in zip(rows, preds)}
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in squad_scores(questions, answers, na_probs).items()}


def _compact(scored: dict, pred) -> dict:
    keep = ("id", "answered", "confidence", "right", "hit1", "hit3", "rr", "em", "f1", "contains")
    row = {k: round(scored[k], 4) if isinstance(scored[k], float) else scored[k] for k in keep if k in scored}
    row["answer"] = pred.answer
    row["ms"] = round(pred.seconds * 1000, 2)
    if not all(scored["offsets_exact"]) or scored["answer_verbatim"] is False:
        row["inexact_offsets"] = True
    return row


def _shown(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _log(message: str) -> None:
    print(f"qa eval: {message}", file=sys.stderr)
