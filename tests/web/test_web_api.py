"""The JSON API over HTTP against a running `qa serve`."""
from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from qa.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

MDAA = "When did Pakistan sign the Mutual Defense Assistance Agreement?"
BLINKEN = "Who did Bilawal Bhutto Zardari meet in New York?"
NORWAY = "What is the capital of Norway?"


def normalise(text: str) -> str:
    return " ".join(text.split())


def source_text(source: str, manifest_sources: list[dict]) -> str:
    encoding = next(s["encoding"] for s in manifest_sources if s["source"] == source)
    path = Path(source) if Path(source).is_absolute() else PROJECT_ROOT / source
    return path.read_bytes().decode(encoding)


@pytest.fixture(scope="session")
def manifest(server) -> dict:
    return json.loads((server.index / "manifest.json").read_text(encoding="utf-8"))


def test_health_summarises_the_manifest(api, manifest):
    r = api.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["build_id"] == manifest["build_id"]
    assert body["built_at"] == manifest["built_at"]
    assert body["model"] == manifest["model"]
    assert body["counts"] == manifest["counts"]
    assert [s["source"] for s in body["sources"]] == [s["source"] for s in manifest["sources"]]
    assert body["sources"][0]["bytes"] > 0 and body["sources"][0]["sentences"] > 0


def test_answer_contract(api, manifest):
    r = api.post("/api/ask", json={"question": MDAA, "id": "q-1"})
    assert r.status_code == 200
    a = r.json()
    assert set(a) >= {"id", "question", "answer", "abstained", "confidence", "citations", "passages",
                      "answer_source", "answer_start", "answer_end", "resolved_question"}
    assert a["id"] == "q-1" and a["question"] == MDAA
    assert a["abstained"] is False
    assert "May 1954" in a["answer"]
    assert isinstance(a["confidence"], float) and 0.0 <= a["confidence"] <= 1.0
    assert a["citations"] and a["passages"]
    for n, c in enumerate(a["citations"], 1):
        assert c["n"] == n
        assert isinstance(c["sentence"], int) and isinstance(c["start"], int) and isinstance(c["end"], int)
        assert all(isinstance(c[k], str) for k in ("source", "text", "before", "after"))
    for p in a["passages"]:
        assert isinstance(p["score"], float) and isinstance(p["text"], str) and p["start"] < p["end"]


@pytest.mark.parametrize("question", [MDAA, BLINKEN, "How much military aid did the USA provide between 1948 and 2016?"])
def test_citation_offsets_point_into_the_file(api, manifest, question):
    a = api.post("/api/ask", json={"question": question}).json()
    assert not a["abstained"], a
    for c in a["citations"]:
        text = source_text(c["source"], manifest["sources"])
        assert normalise(text[c["start"]:c["end"]]) == c["text"]
    text = source_text(a["answer_source"], manifest["sources"])
    assert normalise(text[a["answer_start"]:a["answer_end"]]) == a["answer"]
    first = a["citations"][0]
    assert first["start"] <= a["answer_start"] < a["answer_end"] <= first["end"]
    assert a["answer"] in first["text"]


# on topic, not answered by the article, and far below the answer model's threshold (0.006 against 0.066);
# a near miss such as "In what year did Liaquat Ali Khan travel to the United States?" is answered "unsure"
# by this model (eval/report.md measures abstention; these tests, what an abstention shows)
POPULATION = "What is the population of Pakistan?"


def test_an_off_topic_question_shows_no_passages(api):
    """Issue 20, item 15: the 2018 World Cup listed three unrelated passages as "closest"."""
    for question in ("Who won the 2018 World Cup?", NORWAY):
        a = api.post("/api/ask", json={"question": question}).json()
        assert a["abstained"] is True and a["tier"] == "none" and a["passages"] == [], (question, a["passages"])


def test_unanswerable_question_abstains_with_passages(api, manifest):
    a = api.post("/api/ask", json={"question": POPULATION}).json()
    assert a["abstained"] is True
    assert a["answer"] == "" and a["citations"] == []
    assert a["passages"]
    for p in a["passages"]:
        text = source_text(p["source"], manifest["sources"])
        assert normalise(text[p["start"]:p["end"]]) == p["text"]


def test_follow_up_uses_the_history(api):
    first = "Who is Pakistan's newly appointed Foreign Minister?"
    history = [{"role": "user", "content": first},
               {"role": "assistant", "content": [{"type": "text", "text": "Bilawal Bhutto Zardari"}]}]
    a = api.post("/api/ask", json={"question": "Who did he meet in New York?", "history": history}).json()
    assert a["resolved_question"] and "Foreign Minister" in a["resolved_question"]   # the earlier question's subject
    assert not a["abstained"] and "Blinken" in a["citations"][0]["text"]


@pytest.mark.parametrize("body, says", [
    ({"question": ""}, "empty"),
    ({"question": "   \n\t "}, "empty"),
    ({"question": "x" * 100_000}, "too long"),
    ({"question": 42}, "question"),
    ({"question": None}, "question"),
    ({"question": ["a list"]}, "question"),
    ({}, "question"),
    ({"question": "ok?", "history": "not a list"}, "history"),
    ({"question": "ok?", "history": [1, 2]}, "history"),
    (["not", "an", "object"], "JSON object"),
    ("just a string", "JSON object"),
])
def test_bad_json_input_is_a_4xx_with_a_message(api, body, says):
    r = api.post("/api/ask", json=body)
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and says.lower() in detail.lower()
    assert "Traceback" not in r.text


@pytest.mark.parametrize("content, headers, says", [
    (b"", {"content-type": "application/json"}, "empty"),
    (b"{not json", {"content-type": "application/json"}, "not valid JSON"),
    (b"\xff\xfe\x00garbage", {"content-type": "application/json"}, "JSON"),
    (b"question=hi", {"content-type": "application/x-www-form-urlencoded"}, "application/json"),
    (b"hello", {"content-type": "text/plain"}, "application/json"),
])
def test_non_json_body_is_a_4xx_with_a_message(api, content, headers, says):
    r = api.post("/api/ask", content=content, headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert says.lower() in r.json()["detail"].lower()


def test_wrong_method_and_unknown_path(api):
    assert api.get("/api/ask").status_code == 405
    assert api.get("/api/nothing-here").status_code == 404


def test_concurrent_requests_are_all_answered(api):
    """16 requests from 8 threads: every one answered, each the same as when asked alone."""
    questions = [MDAA, BLINKEN, NORWAY, "How much military aid did the USA provide between 1948 and 2016?"]
    alone = {q: api.post("/api/ask", json={"question": q}).json() for q in questions}

    def ask(question):
        return question, httpx.post(f"{api.base_url}/api/ask", json={"question": question}, timeout=120)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, questions * 4))
    assert len(results) == 16
    for question, r in results:
        assert r.status_code == 200, r.text
        a = r.json()
        assert a["question"] == question
        assert (a["answer"], a["abstained"], a["citations"]) == \
            (alone[question]["answer"], alone[question]["abstained"], alone[question]["citations"])
    assert "May 1954" in alone[MDAA]["answer"] and "Blinken" in alone[BLINKEN]["answer"]


def test_openapi_docs_come_from_the_framework(api):
    spec = api.get("/openapi.json").json()
    assert "/api/ask" in spec["paths"] and "/api/health" in spec["paths"]
    assert api.get("/docs").status_code == 200


def test_chat_page_is_served_at_the_root(api):
    r = api.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_binds_loopback_only(server):
    """Nothing answers on this machine's other addresses."""
    port = int(server.url.rsplit(":", 1)[1])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))        # no packet is sent; picks the outward address
            address = probe.getsockname()[0]
    except OSError:
        address = None
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback address")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        assert sock.connect_ex((address, port)) != 0
