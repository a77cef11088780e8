"""`qa bench`: model load, index build and question-to-answer times, and peak memory, in one run.

Corpora: the article, and one about 100 times its size assembled from plain
UTF-8 texts already on the machine (licenses, package READMEs and copyright
files, then package metadata and compressed Debian changelogs), with the
article among them so that its questions still have answers. A 1000x corpus
is built only when asked (`QA_BENCH_SCALE=1000`, or
`run_bench(scales=(100, 1000))`): it takes about twenty minutes.

Question timing interleaves, question by question, the full ask() and the
bare embedding of the same question with the same model, so both see the same
machine state; the ratio of their medians is the product's speed target.

Both inference backends (QA_BACKEND=torch and onnx, see qa.indexing.onnx_backend) are
measured in the same run: the article is built with each (builds interleaved),
and each question's embedding and ask() run under torch and then ONNX Runtime
back to back. On the article, ONNX questions are asked of the ONNX-built index,
as `QA_BACKEND=onnx qa ask` would, and the answers are compared with torch's;
on the larger corpora, of the torch-built index (timing only).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from ..indexing import onnx_backend
from ..config import DEFAULT_SOURCE, PROJECT_ROOT
from ..evaluation.datasets import load_dataset
from ..answering.reader import READER_DIR
from ..evaluation.previous import previous_models
from ..evaluation.metrics import median, percentile
from .formats import formats_lines, measure_formats

EVAL_DIR = PROJECT_ROOT / "eval"
QUESTION_FILES = (EVAL_DIR / "article-dev.jsonl", EVAL_DIR / "article-test.jsonl")
QUESTIONS = 50
BUILD_REPEATS = 3
SCALE_ENV = "QA_BENCH_SCALE"
TEXT_ROOTS = (Path("/usr/share/common-licenses"), Path("/usr/share/doc"), Path(sys.prefix) / "lib")
TEXT_NAMES = ("README", "README.txt", "README.md", "README.rst", "copyright", "LICENSE", "LICENSE.txt",
              "LICENSE.md", "NEWS.txt", "changelog.txt")
MORE_TEXT_NAMES = ("METADATA",)       # package descriptions; taken after the files above (1000x needs them)
GZIP_DOC_ROOT = Path("/usr/share/doc")  # changelog.gz, NEWS.gz ...: last, decompressed
MAX_FILE_BYTES = 120_000
MIN_FILE_BYTES = 400

_LOAD_SCRIPT = """
import json, os, resource, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["QA_BACKEND"] = {backend!r}
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
from qa.indexing import embedder
embedder.get_model()
t2 = time.perf_counter()
embedder.embed_query("warm up")
t3 = time.perf_counter()
from qa.answering.ask import ask
from qa.config import DEFAULT_INDEX
from qa.indexing.store import load_index
index = load_index(DEFAULT_INDEX)
for question in {questions!r}:
    ask(index, question)
t4 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "first_query_s": t3 - t2, "answers_s": t4 - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "torch_imported": float("torch" in sys.modules)}}))
"""
_IMPORTS = {"torch": "import sentence_transformers  # noqa: F401  (torch, transformers)",
            "onnx": "import onnxruntime, tokenizers  # noqa: F401"}
FRESH_QUESTIONS = 5     # answered by the fresh process: the cost of a cold `qa ask`, and its memory


def run_bench(out=None, quick: bool = False, scales=None) -> int:
    """Measure and write bench.md and bench.json to `out` (default eval/)."""
    out = Path(out) if out else EVAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    if scales is None:
        scales = _scales_from_env()
    scales = [] if quick else sorted(set(scales))
    questions = _questions()
    result = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "questions": len(questions),
        "model_load": _model_load("torch", questions[:FRESH_QUESTIONS]),
        "corpora": [],
    }
    _log(f"model load in a fresh process: {result['model_load'].get('total_s', float('nan')):.2f} s")
    from ..indexing import embedder
    from ..reading import entities

    # a new machine's first `qa ask` when nothing prepared the exports: an empty cache, so it exports both
    with tempfile.TemporaryDirectory(prefix="qa-bench-cache-") as empty:
        result["onnx_cold_export"] = _model_load("onnx", questions[:FRESH_QUESTIONS], cache=empty)
    _log(f"ONNX fresh process, export included: {result['onnx_cold_export'].get('answers_s', float('nan')):.2f} s")
    started = time.perf_counter()
    with onnx_backend.using("onnx"):
        result["onnx_prepare"] = onnx_backend.prepare(embedder.model_path(), READER_DIR)   # as `make setup` does
    result["onnx_model_ready_s"] = round(time.perf_counter() - started, 3)
    result["onnx_model_load"] = _model_load("onnx", questions[:FRESH_QUESTIONS])
    _log(f"ONNX fresh process, exports cached: {result['onnx_model_load'].get('answers_s', float('nan')):.2f} s")
    embedder.get_model("onnx")
    embedder.get_model("torch")
    entities.get_nlp()
    result["onnx_threads"] = onnx_threads(questions)
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        tmp = Path(tmp)
        previous = previous_models(log=_log)
        article = _measure_corpus("article", [DEFAULT_SOURCE], tmp / "article", questions, BUILD_REPEATS,
                                  onnx_build=True, previous=previous)
        result["corpora"].append(article)
        for scale in scales:
            folder = tmp / f"corpus-{scale}x"
            target = scale * DEFAULT_SOURCE.stat().st_size
            info = assemble_corpus(folder, target, include=[DEFAULT_SOURCE])
            _log(f"{scale}x corpus: {info['files']} files, {info['bytes'] / 1e6:.2f} MB")
            entry = _measure_corpus(f"{scale}x", [folder], tmp / f"index-{scale}x", questions, 1, onnx_build=True,
                                    previous=previous)
            entry["corpus"] = info
            result["corpora"].append(entry)
            for used in (f"index-{scale}x-0", f"index-{scale}x-onnx-0"):
                shutil.rmtree(tmp / used, ignore_errors=True)
    result["formats"] = measure_formats()
    _log(f"PDF: {result['formats']['pdf_pages']} pages read at {result['formats']['pdf_pages_per_s']:,.0f} pages/s")
    result["peak_rss_mb"] = _peak_rss_mb()
    result["machine"]["load_average_at_end"] = _load()
    result["targets"] = _targets(result)
    (out / "bench.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "bench.md").write_text(render_markdown(result), encoding="utf-8")
    print(summary(result))
    print(f"wrote {out / 'bench.md'} and {out / 'bench.json'}")
    return 0


def _scales_from_env() -> list[int]:
    scales = {100}
    for part in os.environ.get(SCALE_ENV, "").replace(",", " ").split():
        if part.isdigit() and int(part) > 1:
            scales.add(int(part))
    return sorted(scales)


def _questions() -> list[str]:
    rows = [r for path in QUESTION_FILES if path.exists() for r in load_dataset(path)]
    questions = [r.question for r in rows][:QUESTIONS]
    return questions or ["When was the agreement signed?", "Who visited the United States?"]


def _model_load(backend: str = "torch", questions: list[str] = (), cache: str | None = None) -> dict:
    """Import and load the model in a fresh process, then answer `questions` on the default index: the
    cost a cold start pays, and the process's peak memory (RSS) on that backend. `cache`: the ONNX export
    cache that process uses (an empty one: the exports are part of the cost)."""
    script = _LOAD_SCRIPT.format(backend=backend, imports=_IMPORTS[backend], questions=list(questions))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if cache is not None:
        env[onnx_backend.CACHE_ENV] = cache
    src = str(PROJECT_ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                              timeout=300, check=True)
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    data["total_s"] = data["import_s"] + data["load_s"]
    return {k: round(v, 3) for k, v in data.items()}


def _measure_corpus(name: str, sources: list[Path], index_dir: Path, questions: list[str], repeats: int,
                    onnx_build: bool = False, previous: Path | None = None) -> dict:
    from ..indexing.build import build
    from ..indexing.store import load_index

    sizes = [p.stat().st_size for src in sources for p in ([src] if src.is_file() else src.rglob("*.txt"))]
    backends = ("torch", "onnx") if onnx_build else ("torch",)
    times = {b: [] for b in backends}
    manifest = None
    warm = None
    if repeats > 1:     # one untimed build first: tokenizer and spaCy caches
        for b in reversed(backends):
            with onnx_backend.using(b):
                started = time.perf_counter()
                build(sources, index_dir.with_name(f"{index_dir.name}-{b}-warm"))
                warm = time.perf_counter() - started
    for i in range(repeats):    # interleaved: both backends see the same machine state
        for b in backends:
            folder = index_dir.with_name(f"{index_dir.name}-{i}" if b == "torch" else f"{index_dir.name}-{b}-{i}")
            with onnx_backend.using(b):
                started = time.perf_counter()
                built = build(sources, folder).manifest
                times[b].append(time.perf_counter() - started)
            manifest = built if b == "torch" else manifest
    _log(f"{name}: build {median(times['torch']):.2f} s (median of {repeats})"
         + (f", ONNX Runtime {median(times['onnx']):.2f} s" if onnx_build else ""))
    first = index_dir.with_name(f"{index_dir.name}-0")
    disk = index_size(first)
    started = time.perf_counter()
    index = load_index(first)
    load_s = time.perf_counter() - started
    onnx_index = load_index(index_dir.with_name(f"{index_dir.name}-onnx-0")) if onnx_build else index
    timing = time_questions(index, questions, onnx_index=onnx_index, previous=previous)
    timing["onnx"]["index"] = "built with onnx" if onnx_build else "the torch-built index"
    if onnx_build:
        timing["onnx"]["build_s"] = [round(t, 3) for t in times["onnx"]]
        timing["onnx"]["build_median_s"] = round(median(times["onnx"]), 3)
    times = times["torch"]
    o = timing["onnx"]
    _log(f"{name}: ask median {timing['ask_median_ms']:.1f} ms, bare embedding {timing['embed_median_ms']:.1f} ms; "
         f"ONNX Runtime ask {o['ask_median_ms']:.1f} ms, embedding {o['embed_median_ms']:.1f} ms, "
         f"{o['answers_differ']} of {len(questions)} answers differ")
    return {
        "name": name,
        "bytes": sum(sizes),
        "files": len(sizes),
        "sentences": manifest["counts"]["sentences"],
        "chunks": manifest["counts"]["chunks"],
        "build_s": [round(t, 3) for t in times],
        "build_median_s": round(median(times), 3),
        "first_build_s": round(warm, 3) if warm is not None else None,
        "index_bytes": disk,
        "index_load_s": round(load_s, 3),
        "faiss": manifest.get("faiss", {}),
        **timing,
        "peak_rss_mb_after": _peak_rss_mb(),
    }


def index_size(folder: Path) -> dict:
    """Bytes on disk in an index folder: vectors (FAISS), records (JSONL), keyword index, the rest."""
    parts = {"vectors": 0, "records": 0, "keyword": 0, "other": 0}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        top = path.relative_to(folder).parts[0]
        kind = ("vectors" if path.suffix == ".faiss" else "records" if path.suffix == ".jsonl"
                else "keyword" if top.startswith("keyword") else "other")
        parts[kind] += path.stat().st_size
    parts["total"] = sum(parts.values())
    return parts


def time_questions(index, questions: list[str], onnx_index=None, previous: Path | None = None) -> dict:
    """ask() (retrieval, then the trained reader and answer model), retrieval alone, and the bare question
    embedding, interleaved question by question; the same again under ONNX Runtime (on `onnx_index`,
    default `index`) right after each, reported under "onnx" with how many answers differ from torch's; with
    `previous` (a folder of the previous product's models), its ask() on ONNX Runtime too, same questions."""
    from ..indexing import embedder
    from ..answering.ask import ask
    from ..answering.ask import retrieve
    from ..config import RetrievalSettings

    from ..answering.models import models_from

    settings = RetrievalSettings()
    indexes = {"torch": index, "onnx": onnx_index if onnx_index is not None else index}
    with onnx_backend.using("onnx"):
        before = models_from(previous) if previous is not None else None
    for b in indexes:
        with onnx_backend.using(b):
            for q in questions[:3]:                       # warm-up, untimed
                embedder.embed_query(q)
                ask(indexes[b], q, settings=settings)
                retrieve(indexes[b], q, None, settings, "hybrid")
                if before is not None and b == "onnx":
                    ask(indexes[b], q, settings=settings, models=before)
    ms = {b: {"asks": [], "retrieval": [], "embeds": [], "answers": [], "previous": []} for b in indexes}
    for q in questions:
        for b in indexes:
            m = ms[b]
            with onnx_backend.using(b):
                started = time.perf_counter()
                embedder.embed_query(q)
                m["embeds"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                answer = ask(indexes[b], q, settings=settings)
                m["asks"].append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                retrieve(indexes[b], q, None, settings, "hybrid")
                m["retrieval"].append((time.perf_counter() - started) * 1000)
                if before is not None and b == "onnx":
                    started = time.perf_counter()
                    ask(indexes[b], q, settings=settings, models=before)
                    m["previous"].append((time.perf_counter() - started) * 1000)
            m["answers"].append((answer.answer, answer.abstained, [(c.source, c.start, c.end) for c in answer.citations]))
    out = _question_medians(ms["torch"])
    out["onnx"] = _question_medians(ms["onnx"])
    if ms["onnx"]["previous"]:
        out["onnx"]["previous_ask_median_ms"] = round(median(ms["onnx"]["previous"]), 2)
    differ = [q for q, t, o in zip(questions, ms["torch"]["answers"], ms["onnx"]["answers"]) if t != o]
    out["onnx"]["answers_differ"] = len(differ)
    out["onnx"]["differing_questions"] = differ
    return out


def _question_medians(m: dict) -> dict:
    ask_median, embed_median, retrieval_median = median(m["asks"]), median(m["embeds"]), median(m["retrieval"])
    return {
        "ask_median_ms": round(ask_median, 2),
        "ask_p95_ms": round(percentile(m["asks"], 95), 2),
        "retrieval_median_ms": round(retrieval_median, 2),
        "reader_adds_ms": round(ask_median - retrieval_median, 2),
        "embed_median_ms": round(embed_median, 2),
        "embed_p95_ms": round(percentile(m["embeds"], 95), 2),
        "ask_over_embed": round(ask_median / embed_median, 3) if embed_median else None,
    }


def onnx_threads(questions: list[str], repeats: int = 3) -> dict:
    """The embedder under torch and ONNX Runtime with one intra-op thread and with every core, for one
    question and for build batches (the article's sentence pieces, 16 a batch), interleaved.

    Justifies ONNX Runtime's two sessions: one thread for a question, all cores for batches."""
    import torch

    from ..indexing import embedder

    onnx_model, torch_model = embedder.get_model("onnx"), embedder.get_model("torch")
    texts = [p.strip() for p in DEFAULT_SOURCE.read_text(encoding="utf-8").split(".") if p.strip()]
    counts = sorted({1, onnx_backend.cpu_count()})
    sessions = {n: onnx_backend.session(onnx_model.path, n) for n in counts}
    torch_threads = torch.get_num_threads()

    def onnx_run(n, batch):
        onnx_model.run(sessions[n], batch)

    def torch_run(n, batch):
        torch.set_num_threads(n)
        torch_model.encode(batch, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)

    runners = [(name, n) for n in counts for name in ("torch", "onnx")]
    run = {"torch": torch_run, "onnx": onnx_run}
    query = {r: [] for r in runners}
    batch = {r: [] for r in runners}
    try:
        for name, n in runners:
            run[name](n, questions[:2])
        for q in questions:
            for name, n in runners:
                started = time.perf_counter()
                run[name](n, [q])
                query[(name, n)].append((time.perf_counter() - started) * 1000)
        for _ in range(repeats):
            for name, n in runners:
                started = time.perf_counter()
                for i in range(0, len(texts), 16):
                    run[name](n, texts[i:i + 16])
                batch[(name, n)].append(len(texts) / (time.perf_counter() - started))
    finally:
        torch.set_num_threads(torch_threads)
    return {"texts": len(texts),
            "rows": [{"backend": name, "threads": n, "query_median_ms": round(median(query[(name, n)]), 2),
                      "batch_texts_per_s": round(median(batch[(name, n)]), 1)} for name, n in runners]}


def candidate_texts() -> list[Path]:
    """Plain-text files on this machine, in a stable order."""
    found = []
    for root in TEXT_ROOTS:
        if not root.is_dir():
            continue
        if root.name == "common-licenses":
            found += sorted(p for p in root.iterdir() if p.is_file())
            continue
        is_doc = root.name == "doc"
        found += _walk(root, lambda name: name in TEXT_NAMES or (is_doc and name.endswith(".txt")))
    found += _walk(Path(sys.prefix) / "lib", lambda name: name in MORE_TEXT_NAMES)
    found += _walk(GZIP_DOC_ROOT, lambda name: name.endswith(".gz"))
    return found


def _walk(root: Path, wanted) -> list[Path]:
    if not root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [Path(dirpath) / name for name in sorted(filenames) if wanted(name)]
    return found


def _read_text_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError):
            return b""
    return data


def assemble_corpus(folder: Path, target_bytes: int, include: list[Path] = (), candidates=None) -> dict:
    """Copy `include`, then distinct UTF-8 texts (default: the machine's), into `folder` until about `target_bytes`."""
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    total, files = 0, 0
    for path in [*include, *(candidate_texts() if candidates is None else candidates)]:
        if total >= target_bytes:
            break
        try:
            if path.is_symlink() or not path.is_file():
                continue
            data = _read_text_bytes(path)
        except OSError:
            continue
        if path not in include and not MIN_FILE_BYTES <= len(data) <= MAX_FILE_BYTES:
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen or b"\x00" in data:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        seen.add(digest)
        files += 1
        stem = Path(path.name.removesuffix(".gz")).stem
        (folder / f"{files:05d}-{path.parent.name}-{stem}.txt"[:120]).write_bytes(data)
        total += len(data)
    return {"files": files, "bytes": total, "target_bytes": target_bytes}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _machine() -> dict:
    try:
        import torch
        threads = torch.get_num_threads()
    except Exception:  # torch is a dependency; this is only a description
        threads = None
    return {"cpus": os.cpu_count(), "torch_threads": threads, "python": platform.python_version(),
            "platform": platform.platform(), "load_average_at_start": _load()}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _targets(result: dict) -> list[dict]:
    article = result["corpora"][0]
    out = [{"label": "article index build once the model is loaded", "target": "< 1 s",
            "value": f"{article['build_median_s']:.2f} s", "pass": article["build_median_s"] < 1.0}]
    for c in result["corpora"]:
        ratio = c["ask_over_embed"]
        out.append({"label": f"median ask / bare embedding ({c['name']})", "target": "<= 1.3",
                    "value": f"{ratio:.2f}" if ratio else "–", "pass": ratio is not None and ratio <= 1.3})
        if c.get("reader_adds_ms") is not None:
            out.append({"label": f"the reader's added median time ({c['name']})", "target": "<= 25 ms",
                        "value": f"{c['reader_adds_ms']:.1f} ms", "pass": c["reader_adds_ms"] <= 25})
    formats = result.get("formats")
    if formats:
        rate = fastest_build_kb_per_s(result)
        out.append({"label": f"a {formats['pdf_pages']}-page PDF read at least as fast as it is indexed",
                    "target": ">= build KB/s", "value": f"{formats['pdf_text_kb_per_s']:,.0f} / {rate:,.1f} KB/s",
                    "pass": formats["pdf_text_kb_per_s"] >= rate})
    return out + _onnx_targets(result)


def fastest_build_kb_per_s(result: dict) -> float:
    """The build's best rate of the run, over every corpus and backend: KB of text indexed a second."""
    rates = [c["bytes"] / 1000 / s for c in result["corpora"]
             for s in (c.get("build_median_s"), c.get("onnx", {}).get("build_median_s")) if s]
    return max(rates, default=0.0)


def _onnx_targets(result: dict) -> list[dict]:
    """The ONNX Runtime issue's targets: ONNX against torch, measured in this run."""
    out = []
    for c in result["corpora"]:
        o = c.get("onnx", {})
        if o.get("ask_median_ms") is not None:
            before = o.get("previous_ask_median_ms")
            out.append({"label": f"median ask on the default backend ({c['name']})"
                                 + (f"; the previous product's {before:.1f} ms in this run" if before else ""),
                        "target": "<= 40 ms", "value": f"{o['ask_median_ms']:.1f} ms", "pass": o["ask_median_ms"] <= 40})
        ratio = o["ask_median_ms"] / c["ask_median_ms"] if o.get("ask_median_ms") else None
        if ratio is not None:
            out.append({"label": f"ONNX median ask / torch's ({c['name']})", "target": "<= 0.5",
                        "value": f"{ratio:.2f}", "pass": ratio <= 0.5})
        if c["name"] != "article" and o.get("build_median_s"):
            speedup = c["build_median_s"] / o["build_median_s"]
            out.append({"label": f"ONNX build rate / torch's ({c['name']})", "target": ">= 2.5",
                        "value": f"{speedup:.2f}", "pass": speedup >= 2.5})
    fresh = [result.get(k, {}).get("rss_mb") for k in ("onnx_model_load", "model_load")]
    if None not in fresh:
        out.append({"label": "peak RSS of a fresh process, ONNX / torch", "target": "<= 1",
                    "value": f"{fresh[0]:,.0f} / {fresh[1]:,.0f} MB", "pass": fresh[0] <= fresh[1]})
    return out


def render_markdown(result: dict) -> str:
    corpora = result["corpora"]
    lines = [
        "# Benchmark",
        "",
        f"Generated {result['generated_at']} by `qa bench` on {result['machine']['cpus']} CPUs "
        f"(torch threads {result['machine']['torch_threads']}, Python {result['machine']['python']}). "
        f"{result['questions']} questions from the article's Q&A set, asked on each index; each question's full "
        "ask() and its bare embedding are timed back to back. Wall-clock times; the 1/5/15-minute load "
        f"averages were {result['machine']['load_average_at_start']} at the start and "
        f"{result['machine']['load_average_at_end']} at the end (above {result['machine']['cpus']} means other "
        "work was competing for the CPUs).",
        "",
    ]
    lines += _fresh_process_table(result)
    lines += [
        "| | " + " | ".join(c["name"] for c in corpora) + " |",
        "|---|" + "---:|" * len(corpora),
        _row("size", corpora, lambda c: f"{c['bytes'] / 1000:,.0f} KB in {c['files']} file(s)"),
        _row("sentences / chunks", corpora, lambda c: f"{c['sentences']:,} / {c['chunks']:,}"),
        _row("index on disk", corpora, lambda c: _disk(c["index_bytes"])),
        _row("FAISS index (chunks)", corpora, lambda c: c["faiss"].get("chunks", "–")),
        _row("index build (model loaded)", corpora,
             lambda c: f"{c['build_median_s']:.2f} s" + (f" (median of {len(c['build_s'])})"
                                                          if len(c["build_s"]) > 1 else "")),
        _row("index load (load_index)", corpora, lambda c: f"{c['index_load_s']:.2f} s"),
        _row("build rate", corpora, lambda c: f"{c['bytes'] / 1000 / c['build_median_s']:,.1f} KB/s"),
        _row("ask, median / p95", corpora, lambda c: f"{c['ask_median_ms']:.1f} / {c['ask_p95_ms']:.1f} ms"),
        _row("retrieval alone (question embedding included), median", corpora,
             lambda c: f"{c['retrieval_median_ms']:.1f} ms (reader and answer model add {c['reader_adds_ms']:.1f} ms)"),
        _row("bare question embedding, median / p95", corpora,
             lambda c: f"{c['embed_median_ms']:.1f} / {c['embed_p95_ms']:.1f} ms"),
        _row("ask / bare embedding (medians)", corpora, lambda c: f"{c['ask_over_embed']:.2f}×"),
        _row("peak RSS after this corpus", corpora, lambda c: f"{c['peak_rss_mb_after']:,.0f} MB"),
        _row("**ONNX Runtime** (`QA_BACKEND=onnx`): index build", corpora,
             lambda c: f"{c['onnx']['build_median_s']:.2f} s" if "build_median_s" in c["onnx"] else "–"),
        _row("ONNX Runtime: ask, median / p95", corpora,
             lambda c: f"{c['onnx']['ask_median_ms']:.1f} / {c['onnx']['ask_p95_ms']:.1f} ms"),
        _row("ONNX Runtime: the previous product's ask, median (same run)", corpora,
             lambda c: f"{c['onnx']['previous_ask_median_ms']:.1f} ms" if c["onnx"].get("previous_ask_median_ms")
             else "–"),
        _row("ONNX Runtime: retrieval alone, median", corpora,
             lambda c: f"{c['onnx']['retrieval_median_ms']:.1f} ms (reader and answer model add "
                       f"{c['onnx']['reader_adds_ms']:.1f} ms)"),
        _row("ONNX Runtime: bare question embedding, median / p95", corpora,
             lambda c: f"{c['onnx']['embed_median_ms']:.1f} / {c['onnx']['embed_p95_ms']:.1f} ms"),
        _row("ONNX Runtime: build rate", corpora,
             lambda c: f"{c['bytes'] / 1000 / c['onnx']['build_median_s']:,.1f} KB/s "
                       f"({c['build_median_s'] / c['onnx']['build_median_s']:.2f}× torch's)"
             if "build_median_s" in c["onnx"] else "–"),
        _row("ONNX Runtime: ask median / torch's", corpora,
             lambda c: f"{c['onnx']['ask_median_ms'] / c['ask_median_ms']:.2f}×"),
        _row("ONNX Runtime: answers that differ from torch's", corpora,
             lambda c: f"{c['onnx']['answers_differ']} of {result['questions']} ({c['onnx']['index']})"),
        "",
        f"Peak memory (RSS) of the whole run: **{result['peak_rss_mb']:,.0f} MB**.",
        "",
        "Product targets:",
        "",
        "| target | goal | measured | |",
        "|---|---|---:|---|",
    ]
    for t in result["targets"]:
        lines.append(f"| {t['label']} | {t['target']} | {t['value']} | {'pass' if t['pass'] else '**miss**'} |")
    lines += ["", _onnx_paragraph(result)]
    threads = result.get("onnx_threads")
    if threads:
        lines += ["", f"The embedder by backend and intra-op threads (questions one at a time; the article's "
                      f"{threads['texts']} sentence pieces in batches of 16; interleaved; medians):", "",
                  "| backend | intra-op threads | one question | build batches |", "|---|---:|---:|---:|"]
        lines += [f"| {r['backend']} | {r['threads']} | {r['query_median_ms']:.2f} ms | "
                  f"{r['batch_texts_per_s']:,.0f} texts/s |" for r in threads["rows"]]
    if result.get("formats"):
        lines += formats_lines(result["formats"], fastest_build_kb_per_s(result))
    if len(corpora) == 1:
        lines += ["", "The 100× corpus was skipped (`--quick`)."]
    if corpora[0].get("first_build_s") is not None:
        lines += ["", f"The article's first build in this process (tokenizer and spaCy warm-up, untimed above) "
                      f"took {corpora[0]['first_build_s']:.2f} s."]
    for c in corpora[1:]:
        lines += ["", f"The {c['name']} corpus: {c['corpus']['files']} distinct UTF-8 texts from "
                      "/usr/share/common-licenses, /usr/share/doc (README, copyright, *.txt) and package "
                      "LICENSE/README files, then (as far as needed) package METADATA files and decompressed "
                      "Debian changelogs, plus the article."]
    return "\n".join(lines) + "\n"


def _fresh_process_table(result: dict) -> list[str]:
    """A cold start on each backend: imports, model, first query, the first answers, peak memory."""
    lines = [f"A fresh process on each backend (a cold `qa ask`): imports, embedder load, first query, then "
             f"{FRESH_QUESTIONS} answers on the article's index (reader included); peak RSS of that process. "
             "ONNX is measured twice: with its exports in the cache (as after `make setup`, which runs `qa "
             "prepare`), and with an empty cache, where that process exports both models through torch first "
             "(a new machine on which nothing was prepared).", "",
             "| backend | imports | embedder load | first query | to the last answer | peak RSS | torch imported |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for backend, key in (("torch", "model_load"), ("onnx, exports cached", "onnx_model_load"),
                         ("onnx, export included", "onnx_cold_export")):
        m = result.get(key, {})
        if "error" in m or "answers_s" not in m:
            lines.append(f"| {backend} | failed to measure ({m.get('error', 'no figures')}) | | | | | |")
            continue
        lines.append(f"| {backend} | {m['import_s']:.2f} s | {m['load_s']:.2f} s | {m['first_query_s'] * 1000:.0f} ms | "
                     f"**{m['answers_s']:.2f} s** | **{m['rss_mb']:,.0f} MB** | {'yes' if m['torch_imported'] else 'no'} |")
    return lines + [""]


def _onnx_paragraph(result: dict) -> str:
    text = (f"ONNX Runtime: questions run one intra-op thread, build batches {onnx_backend.cpu_count()}; the torch "
            f"rows above use torch's {result['machine']['torch_threads']} threads for both. Model ready in this process "
            f"(`qa prepare`: {', '.join(f'{k} {v}' for k, v in result.get('onnx_prepare', {}).items())}): "
            f"{result.get('onnx_model_ready_s', float('nan')):.2f} s. ")
    return text + "Its cold start and memory are in the fresh-process table at the top."


def _disk(parts: dict) -> str:
    mb = 1e6
    return (f"{parts['total'] / mb:,.2f} MB (vectors {parts['vectors'] / mb:,.2f}, records {parts['records'] / mb:,.2f}, "
            f"keyword {parts['keyword'] / mb:,.2f})")


def _row(label: str, corpora: list[dict], cell) -> str:
    return f"| {label} | " + " | ".join(cell(c) for c in corpora) + " |"


def summary(result: dict) -> str:
    m, o, x = result["model_load"], result.get("onnx_model_load", {}), result.get("onnx_cold_export", {})
    lines = [f"fresh process to {FRESH_QUESTIONS} answers: torch {m.get('answers_s', float('nan')):.2f} s "
             f"{m.get('rss_mb', float('nan')):.0f} MB, onnx (exports cached) {o.get('answers_s', float('nan')):.2f} s "
             f"{o.get('rss_mb', float('nan')):.0f} MB, onnx (export included) {x.get('answers_s', float('nan')):.2f} s "
             f"{x.get('rss_mb', float('nan')):.0f} MB; peak RSS of the run {result['peak_rss_mb']:.0f} MB"]
    for c in result["corpora"]:
        lines.append(f"{c['name']:>8}: {c['bytes'] / 1000:,.0f} KB, build {c['build_median_s']:.2f} s, index "
                     f"{c['index_bytes']['total'] / 1e6:.2f} MB, ask median "
                     f"{c['ask_median_ms']:.1f} ms (p95 {c['ask_p95_ms']:.1f}), embed {c['embed_median_ms']:.1f} ms, "
                     f"ratio {c['ask_over_embed']:.2f}")
        o = c["onnx"]
        lines.append(f"{'':>8}  ONNX Runtime: " + (f"build {o['build_median_s']:.2f} s, " if "build_median_s" in o else "")
                     + f"ask median {o['ask_median_ms']:.1f} ms, embed {o['embed_median_ms']:.1f} ms, "
                     f"{o['answers_differ']} answers differ from torch's")
    if result.get("formats"):
        f = result["formats"]
        lines.append(f"     pdf: {f['pdf_pages']} pages read at {f['pdf_pages_per_s']:,.0f} pages/s "
                     f"({f['pdf_text_kb_per_s']:,.0f} KB of text/s; the build indexes "
                     f"{fastest_build_kb_per_s(result):,.1f} KB/s)")
    return "\n".join(lines)


def _log(message: str) -> None:
    print(f"qa bench: {message}", file=sys.stderr)
