"""Measure the served chat: start-up time and answer time seen through POST /api/ask.

    python -m qa.bench.server [--index DIR] [--questions N] [--dataset FILE ...] [--concurrency 1,4,16]
                             [--backend torch|onnx] [--previous]

Starts `qa serve` on a free port, times process start to the first answer of /api/health, then asks
N questions from the evaluation sets one after another and reports the median and 90th percentile; with
--concurrency, it also sends 4N requests from that many clients at once and reports the throughput.
With --previous, the same is measured first with the previous product's models (eval/previous.json,
served through QA_MODELS), then with the committed ones, in one run.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..config import DEFAULT_INDEX, PROJECT_ROOT

DATASETS = [PROJECT_ROOT / "eval" / "article-dev.jsonl", PROJECT_ROOT / "eval" / "article-test.jsonl"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def questions_from(files: list[Path], limit: int) -> list[str]:
    out = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out[:limit]


@contextmanager
def served(index: Path, **env):
    """A `qa serve` of `index` on a free port with these extra environment settings, until the block ends;
    yields (its URL, seconds from process start to the first answer of /api/health)."""
    import httpx

    port = free_port()
    settings = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                **{k: v for k, v in env.items() if v is not None}}
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(index), "--port", str(port)],
                                   env=settings, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"server exited:\n{log.read().decode(errors='replace')}")
                try:
                    if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield url, time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)


def measure(index: Path, questions: list[str], concurrency: tuple[int, ...] = (), backend: str | None = None,
            models: Path | None = None) -> dict:
    import httpx

    with served(index, QA_BACKEND=backend, QA_MODELS=str(models) if models is not None else None) as (url, startup):
        times, abstained = [], 0
        with httpx.Client(base_url=url, timeout=60) as client:
            client.post("/api/ask", json={"question": "warm the connection"})
            for question in questions:
                t0 = time.perf_counter()
                r = client.post("/api/ask", json={"question": question})
                times.append(time.perf_counter() - t0)
                r.raise_for_status()
                abstained += r.json()["abstained"]
        loads = {n: _load(url, questions * 4, n) for n in concurrency}
    times.sort()
    return {"startup_s": round(startup, 2), "questions": len(times), "abstained": abstained,
            "median_ms": round(statistics.median(times) * 1000, 1),
            "p90_ms": round(times[int(0.9 * (len(times) - 1))] * 1000, 1),
            "max_ms": round(times[-1] * 1000, 1), "backend": backend or "default",
            "models": str(models) if models is not None else "committed",
            "concurrent": loads}


def _load(url: str, questions: list[str], clients: int) -> dict:
    """All `questions` sent by `clients` clients at once: requests a second, median and p99 latency."""
    import httpx
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()
    addresses = iter(range(clients))
    lock = threading.Lock()

    def one(question: str) -> tuple[float, int]:
        # each client from its own loopback address: the server gives each client address its share (fairness.py)
        if not hasattr(local, "address"):
            with lock:
                local.address = f"127.0.1.{10 + next(addresses)}"
        transport = httpx.HTTPTransport(local_address=local.address)
        with httpx.Client(base_url=url, timeout=120, transport=transport) as client:
            t0 = time.perf_counter()
            status = client.post("/api/ask", json={"question": question}).status_code
            return time.perf_counter() - t0, status

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, questions))
    wall = time.perf_counter() - started
    times = sorted(t for t, _ in results)
    return {"requests": len(results), "ok": sum(s == 200 for _, s in results),
            "per_s": round(len(results) / wall, 1), "median_ms": round(statistics.median(times) * 1000, 1),
            "p99_ms": round(times[int(0.99 * (len(times) - 1))] * 1000, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.server", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--dataset", type=Path, action="append")
    parser.add_argument("--concurrency", default="", help="comma-separated client counts, e.g. 1,4,16")
    parser.add_argument("--backend", choices=("torch", "onnx"), help="QA_BACKEND for the server")
    parser.add_argument("--previous", action="store_true",
                        help="measure the previous product's models first, then the committed ones, in one run")
    args = parser.parse_args(argv)
    concurrency = tuple(int(n) for n in args.concurrency.split(",") if n.strip())
    questions = questions_from(args.dataset or DATASETS, args.questions)
    result = {}
    if args.previous:
        from ..evaluation.previous import previous_models

        folder = previous_models(log=lambda m: print(m, file=sys.stderr))
        if folder is None:
            raise SystemExit("no previous product (eval/previous.json, git)")
        result["previous"] = measure(args.index, questions, concurrency, args.backend, models=folder)
    result["product"] = measure(args.index, questions, concurrency, args.backend)
    print(json.dumps(result if args.previous else result["product"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
