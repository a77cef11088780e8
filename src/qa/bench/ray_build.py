"""`qa bench --ray`: the 100x corpus built with a local Ray and in one process, in the same run.

Each build runs in a fresh process (`python -m qa.bench.ray_build --one MODE CORPUS INDEX`), from
nothing, so both pay their own start: the single process loads the embedder and spaCy once, the Ray build
starts Ray and one worker a CPU, each loading them. The parent samples the resident memory of the whole
process tree (driver, Ray's own processes, workers) every SAMPLE_S and keeps the peak. Builds alternate
(plain, Ray, Ray, plain with REPEATS=2) so that drift in the machine's load falls on both alike.

The child reports where its time went: start (models or Ray and its workers), the runner's work (splitting,
annotating, embedding), and the rest of build() in the driver (reading, FAISS, BM25, writing, swap-in),
which a cluster does not spread. Writes eval/bench-ray.md and bench-ray.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from ..config import DEFAULT_SOURCE
from .speed import EVAL_DIR, _load, _log, _machine, assemble_corpus

SCALE = 100
REPEATS = 2
SAMPLE_S = 0.2
SIZES_GB = (1, 10, 100)
CLUSTER_WORKERS = (2, 16, 64, 256)


def run_bench_ray(out=None, scale: int = SCALE, repeats: int = REPEATS) -> int:
    out = Path(out) if out else EVAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    from ..indexing.ray_build import import_ray

    import_ray()            # without the extra: the one-line hint, before twenty minutes of work
    result = {"generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": _machine(),
              "scale": scale, "runs": []}
    with tempfile.TemporaryDirectory(prefix="qa-bench-ray-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / f"corpus-{scale}x"
        result["corpus"] = assemble_corpus(corpus, scale * DEFAULT_SOURCE.stat().st_size, include=[DEFAULT_SOURCE])
        _log(f"{scale}x corpus: {result['corpus']['files']} files, {result['corpus']['bytes'] / 1e6:.2f} MB")
        order = (["plain", "ray"] + ["ray", "plain"]) * ((repeats + 1) // 2)
        for n, mode in enumerate(order[:2 * repeats]):
            index = tmp / f"index-{mode}-{n}"
            run = measure(mode, corpus, index)
            run["load_average_after"] = _load()
            result["runs"].append(run)
            _log(f"{mode}: {run['wall_s']:.1f} s wall, peak RSS {run['peak_rss_mb']:,.0f} MB")
            if n == 1:
                result["same_index"] = same_index(tmp / "index-plain-0", tmp / "index-ray-1")
            if n >= 1:          # written after every pair of modes, so that a long run has results early
                _write(out, result)
            if n >= 2:
                shutil.rmtree(index, ignore_errors=True)
    s = result["summary"]
    print(f"plain {s['plain']['wall_s']:.1f} s, ray {s['ray']['wall_s']:.1f} s "
          f"(ratio {s['ratio_wall']:.2f}; target <= 1.2); wrote {out / 'bench-ray.md'}")
    return 0


def _write(out: Path, result: dict) -> None:
    result["machine"]["load_average_at_end"] = _load()
    result["summary"] = summarise(result)
    (out / "bench-ray.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "bench-ray.md").write_text(render_markdown(result), encoding="utf-8")


def measure(mode: str, corpus: Path, index: Path) -> dict:
    """One build in a fresh process: its own report, wall time, and the peak RSS of its process tree."""
    from ..indexing import onnx_backend

    # one backend for every build of the run, whatever happens to the default meanwhile
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "QA_BACKEND": onnx_backend.backend()}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "qa.bench.ray_build", "--one", mode, str(corpus),
                             str(index)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = {"rss": 0, "processes": 0}
    done = threading.Event()

    def sample():
        while not done.wait(SAMPLE_S):
            rss, count = tree_rss(proc.pid)
            if rss > peak["rss"]:
                peak.update(rss=rss, processes=count)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"the {mode} build failed: {(stderr.strip().splitlines() or ['?'])[-1]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    return {"mode": mode, "wall_s": round(wall, 2), "peak_rss_mb": round(peak["rss"] / 2**20, 1),
            "processes_at_peak": peak["processes"], **report}


def tree_rss(root: int) -> tuple[int, int]:
    """Bytes resident in `root` and all its descendants (from /proc), and how many processes that is."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, count, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            count += 1
        except OSError:
            continue
    return total, count


def same_index(a: Path, b: Path) -> dict:
    """Records byte for byte, manifests apart from the build's id and times, vectors within 1e-5."""
    import numpy as np

    from ..indexing.store import load_index

    out = {name: (a / name).read_bytes() == (b / name).read_bytes() for name in ("sentences.jsonl", "chunks.jsonl")}
    ma, mb = (json.loads((x / "manifest.json").read_text(encoding="utf-8")) for x in (a, b))
    for m in (ma, mb):
        for key in ("build_id", "built_at", "build_seconds"):
            m.pop(key, None)
    out["manifest"] = ma == mb
    ia, ib = load_index(a), load_index(b)
    va, vb = ia.chunk_vectors.reconstruct_n(0, ia.chunk_vectors.ntotal), ib.chunk_vectors.reconstruct_n(0, ib.chunk_vectors.ntotal)
    out["chunk_vectors_max_diff"] = float(np.abs(va - vb).max())
    out["sentence_vectors_max_diff"] = float(np.abs(ia.sentence_vectors - ib.sentence_vectors).max())
    return out


def summarise(result: dict) -> dict:
    kb = result["corpus"]["bytes"] / 1000
    out = {}
    for mode in ("plain", "ray"):
        runs = [r for r in result["runs"] if r["mode"] == mode]
        mean = lambda key: sum(r[key] for r in runs) / len(runs)  # noqa: E731
        out[mode] = {key: round(mean(key), 2) for key in ("wall_s", "start_s", "work_s", "driver_s", "peak_rss_mb")}
        out[mode]["kb_per_s"] = round(kb / out[mode]["wall_s"], 2)
        out[mode]["workers"] = runs[0]["workers"]
        out[mode]["backend"] = "/".join(sorted({r.get("backend", "?") for r in runs}))
    ray = out["ray"]
    ray["kb_per_s_per_worker"] = round(kb / ray["work_s"] / ray["workers"], 2)
    out["ratio_wall"] = round(out["ray"]["wall_s"] / out["plain"]["wall_s"], 3)
    out["ratio_work"] = round(out["ray"]["work_s"] / out["plain"]["work_s"], 3)
    out["driver_s_per_mb"] = round(ray["driver_s"] / (kb / 1000), 2)
    return out


def cluster_table(summary: dict) -> list[str]:
    """Hours for 1/10/100 GB with N workers at the measured per-worker rate, plus the driver's share."""
    rate = summary["ray"]["kb_per_s_per_worker"]
    lines = ["| workers N | text rate (N × " + f"{rate:.2f} KB/s)" + " | " + " | ".join(f"{g} GB" for g in SIZES_GB) + " |",
             "|---:|---:|" + "---:|" * len(SIZES_GB)]
    for n in CLUSTER_WORKERS:
        kbs = n * rate
        cells = [_duration(g * 1e6 / kbs) for g in SIZES_GB]
        lines.append(f"| {n} | {kbs:,.0f} KB/s | " + " | ".join(cells) + " |")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def render_markdown(result: dict) -> str:
    s, m, c = result["summary"], result["machine"], result["corpus"]
    met = s["ratio_wall"] <= 1.2
    lines = [
        "# Benchmark: the build on a local Ray against one process",
        "",
        f"Generated {result['generated_at']} by `qa bench --ray` on {m['cpus']} CPUs (Python {m['python']}). "
        f"Corpus: the {result['scale']}× corpus of `qa bench` ({c['files']} files, {c['bytes'] / 1000:,.0f} KB). "
        f"Each build runs from nothing in a fresh process, {len(result['runs'])} builds alternating "
        f"({', '.join(r['mode'] for r in result['runs'])}); figures are means per mode. Load averages (1/5/15 min): "
        f"{m['load_average_at_start']} at the start, {m['load_average_at_end']} at the end "
        f"(above {m['cpus']}: other work was competing for the CPUs).",
        "",
        "| | one process | local Ray |",
        "|---|---:|---:|",
        f"| embedder backend | {s['plain']['backend']} | {s['ray']['backend']} |",
        f"| workers | 1 process ({m['cpus']} CPUs) | {s['ray']['workers']} actors × 1 CPU |",
        f"| **whole build, wall** | **{s['plain']['wall_s']:.1f} s** | **{s['ray']['wall_s']:.1f} s** |",
        f"| start (models / Ray and its workers with models) | {s['plain']['start_s']:.1f} s | {s['ray']['start_s']:.1f} s |",
        f"| splitting, annotation, embedding | {s['plain']['work_s']:.1f} s | {s['ray']['work_s']:.1f} s |",
        f"| the rest, in the driver (read, FAISS, BM25, write, swap) | {s['plain']['driver_s']:.1f} s | {s['ray']['driver_s']:.1f} s |",
        f"| rate, whole build | {s['plain']['kb_per_s']:.1f} KB/s | {s['ray']['kb_per_s']:.1f} KB/s |",
        f"| peak RSS, whole process tree | {s['plain']['peak_rss_mb']:,.0f} MB | {s['ray']['peak_rss_mb']:,.0f} MB |",
        "",
        f"Local Ray / one process: **{s['ratio_wall']:.2f}×** wall (target ≤ 1.2×: {'met' if met else '**missed**'}); "
        f"{s['ratio_work']:.2f}× for the distributed work alone.",
        "",
        "Every build, in order:",
        "",
        "| mode | wall | start | work | driver | peak RSS | processes at peak | load average after |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["runs"]:
        lines.append(f"| {r['mode']} | {r['wall_s']:.1f} s | {r['start_s']:.1f} s | {r['work_s']:.1f} s | "
                     f"{r['driver_s']:.1f} s | {r['peak_rss_mb']:,.0f} MB | {r['processes_at_peak']} | "
                     f"{r['load_average_after']} |")
    same = result["same_index"]
    lines += [
        "",
        f"Same index: sentences.jsonl {'identical' if same['sentences.jsonl'] else '**differs**'}, chunks.jsonl "
        f"{'identical' if same['chunks.jsonl'] else '**differs**'}, manifest (apart from build id and times) "
        f"{'identical' if same['manifest'] else '**differs**'}; largest vector difference "
        f"{max(same['chunk_vectors_max_diff'], same['sentence_vectors_max_diff']):.1e}.",
        "",
        "## What a cluster would give",
        "",
        f"Per worker (one CPU) the local Ray did {s['ray']['kb_per_s_per_worker']:.1f} KB of text a second "
        f"(the corpus over the work time over {s['ray']['workers']} workers). With N such workers, and the driver's "
        "own part not counted (see below):",
        "",
        *cluster_table(s),
        "",
        f"The driver's own part (reading, FAISS, BM25, writing) took {s['ray']['driver_s']:.1f} s here, "
        f"about {s['driver_s_per_mb']:.1f} s per MB of text, serial whatever the cluster: about "
        f"{_duration(s['driver_s_per_mb'] * 1000)} per GB on this machine, which bounds the speed-up of a large "
        "cluster.",
    ]
    return "\n".join(lines) + "\n"


def _one(mode: str, corpus: Path, index: Path) -> dict:
    """A build from nothing in this process, timed by step; printed as one JSON line."""
    from ..indexing import build as build_module

    started = time.perf_counter()
    if mode == "ray":
        from ..indexing.ray_build import RayRunner

        runner = _timed(RayRunner)()
        workers = len(runner._ensure_actors())      # Ray, its workers, their models
    else:
        from ..indexing import embedder
        from ..reading import entities

        runner = _timed(build_module.LocalRunner)()
        embedder.get_model()
        entities.get_nlp()
        workers = 1
    start_s = time.perf_counter() - started
    try:
        report = build_module.build([corpus], index, force=True, max_bytes=None, runner=runner)
    finally:
        if mode == "ray":
            runner.close()
    total = time.perf_counter() - started
    counts = report.manifest["counts"]
    from ..indexing import onnx_backend

    return {"backend": onnx_backend.backend(), "workers": workers, "start_s": round(start_s, 2), "work_s": round(runner.work_s, 2),
            "driver_s": round(total - start_s - runner.work_s, 2), "build_s": round(total - start_s, 2),
            "sentences": counts["sentences"], "chunks": counts["chunks"], "sources": counts["sources"]}


class _Timing:
    """Time spent in the runner's two steps, as the driver waits for them."""
    work_s = 0.0

    def prepare(self, docs, settings):
        started = time.perf_counter()
        try:
            return super().prepare(docs, settings)
        finally:
            self.work_s += time.perf_counter() - started

    def annotate_embed(self, groups):
        results = super().annotate_embed(groups)
        while True:
            started = time.perf_counter()
            try:
                item = next(results)
            except StopIteration:
                self.work_s += time.perf_counter() - started
                return
            self.work_s += time.perf_counter() - started
            yield item


def _timed(base):
    return type(f"_Timed{base.__name__}", (_Timing, base), {})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.ray_build")
    parser.add_argument("--one", nargs=3, metavar=("MODE", "CORPUS", "INDEX"), required=True)
    args = parser.parse_args(argv)
    mode, corpus, index = args.one
    print(json.dumps(_one(mode, Path(corpus), Path(index))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
