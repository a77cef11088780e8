"""One flooding client and one normal client: what the normal one waits, with and without the per-client
limits (qa.web.fairness), through the JSON API and through the chat's queue (issue 20, item 4).

    python -m qa.bench.fairness [--index index/] [--seconds 20]

Two servers are started in turn on the same index, one with QA_CLIENT_LIMITS=0 (as before) and one with the
limits. Against each, the flooding client (127.0.0.2) keeps FLOOD requests in flight to /api/ask, or sends
200 chat events to Gradio's queue as fast as it can; the normal client (127.0.0.3) asks its questions one
after another; its latencies (median, p99) and refusals are reported, with the flooder's status codes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

from ..config import DEFAULT_INDEX
from .server import served

FLOOD = 64                  # the flooder's requests in flight at once (API)
CHAT_EVENTS = 200           # the flooder's chat events, sent as fast as it can
QUESTIONS = ["When did Pakistan sign the Mutual Defense Assistance Agreement?",
             "Who did Bilawal Bhutto Zardari meet in New York?",
             "How much military aid did the USA provide between 1948 and 2016?",
             "Who was Pakistan's first prime minister?"]


def _client(address: str, url: str, timeout: float = 120):
    import httpx

    return httpx.Client(base_url=url, timeout=timeout, transport=httpx.HTTPTransport(local_address=address))


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def _summary(times: list[float], codes: list[int]) -> dict:
    return {"asked": len(codes), "answered": codes.count(200), "refused": len(codes) - codes.count(200),
            "median_ms": round(statistics.median(times) * 1000) if times else None,
            "p99_ms": round(_percentile(times, 0.99) * 1000) if times else None}


def api_flood(url: str, seconds: float) -> dict:
    stop = threading.Event()
    flood_codes: list[int] = []

    def flooder():
        with _client("127.0.0.2", url) as c:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    flood_codes.append(c.post("/api/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]}).status_code)
                except Exception:
                    flood_codes.append(0)
                if flood_codes[-1] == 429:
                    time.sleep(0.05)

    threads = [threading.Thread(target=flooder, daemon=True) for _ in range(FLOOD)]
    [t.start() for t in threads]
    time.sleep(2.0)

    def ask(c, n: int) -> tuple[int, float]:
        t0 = time.perf_counter()
        code = c.post("/api/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]}).status_code
        return code, time.perf_counter() - t0

    normal = _normal_client(url, seconds, ask, pause=0.0)
    stop.set()
    [t.join(timeout=120) for t in threads]
    return {"normal": normal, "flooder": _codes(flood_codes)}


def _normal_client(url: str, seconds: float, ask, pause: float) -> dict:
    """One client asking one question after another from 127.0.0.3 for `seconds` (`ask(client, n)` gives
    the status and the time taken), pausing `pause` seconds after a refusal."""
    times, codes = [], []
    deadline = time.perf_counter() + seconds
    with _client("127.0.0.3", url) as c:
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            code, took = ask(c, n)
            codes.append(code)
            if code == 200:
                times.append(took)
            elif pause:
                time.sleep(pause)
    return _summary(times, codes)


def _codes(codes: list[int]) -> dict[str, int]:
    return {str(code): codes.count(code) for code in sorted(set(codes))}


def _respond_index(url: str) -> int:
    import httpx

    config = httpx.get(f"{url}/config", timeout=30).json()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    return next(d["id"] for d in config["dependencies"]
                if any(ids.get(t[0]) == "qa-ask" and t[1] == "click" for t in d["targets"]))


def _chat_event(c, fn_index: int, session: str, question: str) -> tuple[int, float]:
    """One chat question as the page sends it: join the queue, then read its stream to the end."""
    t0 = time.perf_counter()
    r = c.post("/gradio_api/queue/join", json={"data": [question, [], None, None, None], "fn_index": fn_index,
                                               "session_hash": session, "event_data": None, "trigger_id": None})
    if r.status_code != 200:
        return r.status_code, time.perf_counter() - t0
    with c.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                break
    return 200, time.perf_counter() - t0


def chat_flood(url: str, seconds: float) -> dict:
    fn_index = _respond_index(url)
    flood_codes: list[int] = []

    def flooder():
        with _client("127.0.0.2", url) as c:
            for n in range(CHAT_EVENTS):
                r = c.post("/gradio_api/queue/join", json={
                    "data": [QUESTIONS[n % len(QUESTIONS)], [], None, None, None], "fn_index": fn_index,
                    "session_hash": f"flood{n}", "event_data": None, "trigger_id": None})
                flood_codes.append(r.status_code)

    thread = threading.Thread(target=flooder, daemon=True)
    thread.start()
    time.sleep(0.5)
    normal = _normal_client(url, seconds, pause=0.2, ask=lambda c, n: _chat_event(
        c, fn_index, f"normal{n}{time.time_ns()}", QUESTIONS[n % len(QUESTIONS)]))
    thread.join(timeout=120)
    return {"normal": normal, "flooder": _codes(flood_codes)}


def run(index: Path, limits: bool, seconds: float) -> dict:
    with served(index, QA_UPLOADS="0", QA_CLIENT_LIMITS="1" if limits else "0") as (url, _):
        with _client("127.0.0.3", url) as c:          # the quiet baseline, for comparison
            quiet = []
            for question in QUESTIONS * 3:
                t0 = time.perf_counter()
                c.post("/api/ask", json={"question": question})
                quiet.append(time.perf_counter() - t0)
        return {"limits": limits, "quiet_median_ms": round(statistics.median(quiet) * 1000),
                "api": api_flood(url, seconds), "chat": chat_flood(url, seconds)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench.fairness", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the normal client asks, each part")
    args = parser.parse_args(argv)
    results = [run(args.index, limits, args.seconds) for limits in (False, True)]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
