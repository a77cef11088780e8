"""Issue 12: what the server and the CLI accept, and what they refuse (no model needed, except `slow`).

Files from the page come only from the app's own upload cache; the cache is bounded; requests share one
contract (qa.answering.requests) in the API, the chat and `qa ask --batch`; uploads that would take too long to
index are refused; an upload whose rebuild never completed is not indexed later unasked.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from qa.config import PROJECT_ROOT
from qa.answering.followup import resolve
from qa.answering.requests import (MAX_BODY_BYTES, MAX_HISTORY_MESSAGES, RequestError, USED_USER_TURNS, json_depth,
                         parse_request)
from qa.types import Answer
from qa.web.upload_cache import UploadCache, UploadLimit, UploadRefused
from qa.web.uploads import PENDING_PREFIX, Uploads, UploadError, read_upload

README = PROJECT_ROOT / "README.md"
DEEP = '{"question": "Who?", "history": ' + "[" * 950 + "]" * 950 + "}"


# ---------------------------------------------------------------- the request contract

@pytest.mark.parametrize("raw, says", [
    (b'{"question": "\\ud800"}', "'question' holds an unpaired UTF-16 surrogate"),
    (b'{"question": "Who?", "id": "\\udfff"}', "'id' holds an unpaired UTF-16 surrogate"),
    (b'{"question": "Who?", "history": [{"role": "user", "content": "a\\ud800"}]}', "history.0.content"),
    (b'{"question": "Who?", "history": [{"role": "user", "content": [{"type": "text", "text": "\\ud800"}]}]}',
     "history.0.content.0.text"),
    (DEEP.encode(), "nests arrays/objects more than"),
    (b'{"question": "caf\xe9?"}', "not valid UTF-8"),
    (b'{"question": "Who?", "id": 5}', "'id' must be text"),
    (b'{"question": "Who?", "history": "he said"}', "'history' must be a list"),
    (b'{"question": "Who?", "history": {"role": "user"}}', "'history' must be a list"),
    (b'{"question": "Who?", "history": [{"role": "user"}]}', "needs both 'role' and 'content'"),
    (json.dumps({"question": "Who?", "history": [{"role": "user", "content": "x" * 1001}]}).encode(),
     "too long for a user turn"),
    (json.dumps({"question": "Who?", "history": [{"role": "user", "content": "q"}] * 201}).encode(),
     "'history' is too long"),
    (b" " * 10 + b"{" + b'"question": "' + b"x" * MAX_BODY_BYTES + b'"}', "too large"),
    (b"[1, 2]", "must be a JSON object"),
    (b"", "empty"),
])
def test_the_contract_refuses_with_one_line(raw, says):
    with pytest.raises(RequestError) as info:
        parse_request(raw)
    message = str(info.value)
    assert says in message and "\n" not in message
    message.encode("utf-8")          # the message itself is always sendable


def test_the_contract_keeps_only_the_user_turns_that_matter():
    history = [{"role": "user", "content": f"Question {n}?"} for n in range(150)]
    history += [{"role": "assistant", "content": [{"type": "text", "text": "An answer."}]}] * 50
    checked = parse_request(json.dumps({"question": "And then?", "history": history, "id": "q1"}))
    assert checked.id == "q1" and checked.question == "And then?"
    assert [t["content"] for t in checked.history] == [f"Question {n}?" for n in range(140, 150)]
    assert len(history) == MAX_HISTORY_MESSAGES and USED_USER_TURNS == 10


def test_refusals_carry_the_id_and_question_when_readable():
    with pytest.raises(RequestError) as info:
        parse_request(b'{"id": "row-7", "question": "Who?", "history": "x"}')
    assert (info.value.id, info.value.question) == ("row-7", "Who?")


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth(r'{"a": "x\"[[["}') == 1


def test_follow_up_resolution_is_bounded_for_any_caller():
    """200 turns of 50,000 characters without names: what is glued onto the question stays small."""
    history = [{"role": "user", "content": ("and what about it " * 3000)}] * 200
    resolved = resolve("And what about it?", history)
    assert len(resolved) <= (USED_USER_TURNS + 1) * 1000 + USED_USER_TURNS
    nested = {"role": "user", "content": []}
    inner = nested["content"]
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    assert resolve("And then?", [nested]) == "And then?"


# ---------------------------------------------------------------- the API (in process, a stub engine)

class StubService:
    """Echoes what the API hands it: the question and the user turns glued on, like the real resolution."""

    def __init__(self):
        self.calls = []

    def ask(self, question, history=None):
        from qa.answering.requests import check_text

        check_text(question, "question")
        turns = [m["content"] for m in history or [] if m.get("role") == "user"]    # all it is handed
        self.calls.append((question, turns))
        resolved = " ".join([*turns, question]) if turns else None
        return Answer(question=question, answer="", abstained=True, confidence=0.0, resolved_question=resolved)

    def summary(self):
        return {"status": "ok"}


@pytest.fixture
def client():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from qa.web.api import api_router, install_error_handlers

    app = FastAPI()
    install_error_handlers(app)
    service = StubService()
    app.include_router(api_router(service))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.service = service
        yield c


@pytest.mark.parametrize("content, says", [
    (b'{"question": "\\ud800"}', "surrogate"),
    (b'{"question": "Who?", "id": "\\ud800"}', "surrogate"),
    (b'{"question": "Who?", "history": [{"role": "user", "content": "\\ud800"}]}', "surrogate"),
    (DEEP.encode(), "nests"),
    (b'{"question": "Who is \xff?"}', "UTF-8"),
    (b'{"question": "Who?", "history": "he"}', "history"),
])
def test_api_refuses_with_422_and_one_line(client, content, says):
    r = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert says in detail and "\n" not in detail and "Traceback" not in r.text


def test_api_refuses_a_huge_body_with_413_unread(client):
    r = client.post("/api/ask", content=b'{"question": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]


def test_api_echoes_only_what_resolution_needs(client):
    history = [{"role": "user", "content": "x" * 1000}] * 100 + [{"role": "assistant", "content": "y" * 4_000}] * 100
    r = client.post("/api/ask", json={"question": "And then?", "history": history})
    assert r.status_code == 200, r.text
    [(question, turns)] = client.service.calls
    assert len(turns) == USED_USER_TURNS
    assert len(r.json()["resolved_question"]) <= (USED_USER_TURNS + 1) * 1001
    assert len(r.content) < 20_000


# ---------------------------------------------------------------- the upload cache

def test_only_files_inside_the_cache_are_taken(tmp_path):
    cache = UploadCache(tmp_path / "cache")
    inside = cache.folder / "abc" / "notes.txt"
    inside.parent.mkdir()
    inside.write_text("A fact.", encoding="utf-8")
    assert cache.inside(inside) == inside.resolve()
    link = cache.folder / "def" / "readme.md"
    link.parent.mkdir()
    link.symlink_to(README)
    for path in [README, link, str(cache.folder / ".." / "x.md"), "http://example.com/a.md", "", None]:
        with pytest.raises(UploadRefused):
            cache.inside(path)
    cache.blocks = SimpleNamespace(upload_file_set=set())
    with pytest.raises(UploadRefused, match="not uploaded to this page"):
        cache.received(inside)                     # in the folder, but Gradio's upload route never got it
    cache.blocks.upload_file_set.add(str(inside))
    assert cache.received(inside) == inside.resolve()
    cache.discard(inside)
    assert not inside.exists() and not inside.parent.exists() and not cache.blocks.upload_file_set


def test_guarded_component_copies_nothing_from_outside(tmp_path):
    cache = UploadCache(tmp_path / "cache")
    component = SimpleNamespace()
    cache.guard(component)
    with pytest.raises(UploadRefused):
        component.move_resource_to_block_cache(str(README))
    assert list(cache.folder.rglob("*")) == []


def test_cache_is_pruned_by_age_and_size(tmp_path):
    cache = UploadCache(tmp_path / "cache", cap=3000, max_age=60)
    for n in range(5):
        f = cache.folder / f"h{n}" / f"f{n}.txt"
        f.parent.mkdir()
        f.write_bytes(b"x" * 1000)
        stamp = time.time() - 200 + n * 50          # f0, f1, f2 are over a minute old
        os.utime(f, (stamp, stamp))
    assert cache.prune(incoming=1000) == 2000
    assert sorted(p.name for p in cache.folder.rglob("*.txt")) == ["f3.txt", "f4.txt"]
    assert cache.prune(incoming=2500) == 0


def test_upload_requests_are_bounded_before_gradio_stores_them(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    cache = UploadCache(tmp_path / "cache")
    app = Starlette(routes=[Route("/gradio_api/upload", lambda r: PlainTextResponse("stored"), methods=["POST"])])
    app.add_middleware(UploadLimit, cache=cache)
    with TestClient(app) as c:
        assert c.post("/gradio_api/upload", content=b"x" * 100).text == "stored"
        assert c.post("/gradio_api/upload", content=b"x" * (6 * 1024 * 1024)).status_code == 413


# ---------------------------------------------------------------- the chat's upload handlers

def stub_service(folder: Path, sources: list[str]):
    manifest = {"build_id": "b1", "sources": [{"source": s} for s in sources], "counts": {}}
    index = SimpleNamespace(manifest=manifest, build_id="b1")
    return SimpleNamespace(holder=SimpleNamespace(folder=folder, get=lambda: index),
                           summary=lambda: {"build_id": "b1", "sources": [{"source": s, "bytes": 10} for s in sources],
                                            "counts": {"sentences": 1}, "built_at": None})


def handlers(demo) -> dict:
    return {fn.name: fn.fn for fn in demo.fns.values()}


def test_chat_handlers_refuse_a_file_outside_the_cache(tmp_path, monkeypatch):
    import qa.indexing.build
    from qa.web.chat import build_chat

    monkeypatch.setattr(qa.indexing.build, "build", lambda *a, **k: pytest.fail("nothing may be built"))
    service = stub_service(tmp_path / "index", ["data/pak-us-diplomatic-relations.txt"])
    uploads = Uploads(service, tmp_path / "up")
    demo = build_chat(service, uploads, UploadCache(tmp_path / "cache"))
    fns = handlers(demo)
    message, form = fns["on_upload"](str(README))
    assert "not uploaded to this page" in message and form is None       # refused: taken off the form
    steps = list(fns["on_rebuild"](str(README)))
    assert "not uploaded to this page" in steps[-1][0]
    assert not (tmp_path / "up").exists()


def test_chat_drops_refused_and_indexed_uploads_from_the_cache(tmp_path, monkeypatch):
    from qa.web.chat import build_chat

    service = stub_service(tmp_path / "index", [])
    uploads = Uploads(service, tmp_path / "up")
    cache = UploadCache(tmp_path / "cache")
    demo = build_chat(service, uploads, cache)
    cache.blocks = demo
    fns = handlers(demo)
    png = cache.folder / "h1" / "photo.txt"
    png.parent.mkdir()
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    demo.upload_file_set.add(str(png))
    message, form = fns["on_upload"](str(png))
    assert "not a text file" in message and form is None
    assert not png.exists()
    notes = cache.folder / "h2" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("A fact.", encoding="utf-8")
    demo.upload_file_set.add(str(notes))
    monkeypatch.setattr(uploads, "rebuild", lambda path: SimpleNamespace(message="Added", warnings=[]))
    list(fns["on_rebuild"](str(notes)))
    assert not notes.exists()


def test_chat_turns_a_surrogate_into_a_readable_message(tmp_path):
    from qa.web.chat import build_chat

    service = stub_service(tmp_path / "index", [])
    service.ask = StubService().ask
    demo = build_chat(service, None, UploadCache(tmp_path / "cache"))
    steps = list(handlers(demo)["respond"]("Who is \ud800?", [], [], [], "b1"))
    for step in steps:                    # every update can be sent to the page
        json.dumps(step[0], ensure_ascii=False).encode("utf-8")
    assert "surrogate" in steps[-1][0][-1]["content"]


# ---------------------------------------------------------------- uploads: build time, staging

def test_an_upload_that_would_take_hours_to_index_is_refused(tmp_path):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("".join(f"A b{n}. " for n in range(400_000)), encoding="utf-8")   # 3 MB of tiny sentences
    with pytest.raises(UploadError, match=r"would take about .* hours to index .*about 400,000 sentences"):
        read_upload(tiny)
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("The harbour master of Port Elsin in 1902 was Ewan Tulloch. " * 3000, encoding="utf-8")
    read_upload(ordinary)                                             # 180 KB of ordinary sentences: fine


def test_repeated_sentences_are_estimated_as_built_once():
    """Issue 20, item 12: identical sentences are embedded once, and the estimate knows it (it said 28 minutes
    for what took 6.5)."""
    from qa.web.uploads import estimate_build_seconds

    repeated, sentences = estimate_build_seconds("Harbour.\n\n" * 50_000)
    assert sentences == 50_000 and 20 < repeated < 60                  # measured: 23 s for 50,000 <p>Harbour.</p>
    distinct, _ = estimate_build_seconds("".join(f"Harbour {n}.\n\n" for n in range(50_000)))
    assert distinct > 10 * repeated


def test_an_upload_whose_rebuild_was_killed_is_not_indexed_later(tmp_path, monkeypatch):
    import qa.indexing.build

    service = stub_service(tmp_path / "index", [])
    upload = tmp_path / "new.txt"
    upload.write_text("A new fact.", encoding="utf-8")

    def killed(paths, target, **kwargs):
        raise KeyboardInterrupt         # stands for kill -9: nothing after this line runs

    monkeypatch.setattr(qa.indexing.build, "build", killed)
    with pytest.raises(KeyboardInterrupt):
        Uploads(service, tmp_path / "up").rebuild(upload)
    assert (tmp_path / "up" / "new.txt").exists()                 # what kill -9 leaves behind

    Uploads(service, tmp_path / "up")                              # the server starts again
    assert list((tmp_path / "up").iterdir()) == []


def test_a_confirmed_upload_is_kept(tmp_path):
    import hashlib

    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "kept.txt").write_text("Kept.", encoding="utf-8")
    digest = hashlib.sha256(b"Kept.").hexdigest()
    (folder / f"{PENDING_PREFIX}{digest}").write_text(digest)      # killed after the swap, before confirming
    service = stub_service(tmp_path / "index", [])
    service.holder.get().manifest["sources"] = [{"source": str(folder / "kept.txt"), "sha256": digest}]
    Uploads(service, folder)
    assert [p.name for p in folder.iterdir()] == ["kept.txt"]


# ---------------------------------------------------------------- over HTTP against a real server

def gradio_event(server, fn_name: str, data: list, timeout: float = 120) -> dict:
    """Send an event as the page would (queue join, then its result stream); the final message."""
    config = httpx.get(f"{server.url}/config", timeout=30).json()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    trigger = {"on_upload": ("qa-upload", "upload"), "on_rebuild": ("qa-rebuild", "click")}[fn_name]
    dep = next(d for d in config["dependencies"]
               if any(ids.get(t[0]) == trigger[0] and t[1] == trigger[1] for t in d["targets"]))
    session = f"attack{time.time_ns()}"
    r = httpx.post(f"{server.url}/gradio_api/queue/join", timeout=30, json={
        "data": data, "fn_index": dep["id"], "session_hash": session, "event_data": None,
        "trigger_id": dep["targets"][0][0]})
    assert r.status_code == 200, r.text
    last = None
    with httpx.stream("GET", f"{server.url}/gradio_api/queue/data", params={"session_hash": session},
                      timeout=timeout) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                last = json.loads(line[5:])
                if last.get("msg") == "process_completed":
                    return last
    return last or {}


@pytest.mark.slow
def test_a_crafted_file_path_is_never_read_indexed_or_cited(upload_server):
    before = httpx.get(f"{upload_server.url}/api/health", timeout=30).json()
    crafted = {"path": str(README), "orig_name": "README.md", "size": README.stat().st_size,
               "meta": {"_type": "gradio.FileData"}}
    checked = gradio_event(upload_server, "on_upload", [crafted])
    assert "Click “Rebuild index”" not in json.dumps(checked, ensure_ascii=False)
    assert f"{README.stat().st_size:,}" not in json.dumps(checked)
    rebuilt = gradio_event(upload_server, "on_rebuild", [crafted], timeout=300)
    assert "Added" not in json.dumps(rebuilt, ensure_ascii=False)
    after = httpx.get(f"{upload_server.url}/api/health", timeout=30).json()
    assert after["build_id"] == before["build_id"]
    assert not any(p.name.startswith("README") for p in upload_server.uploads.glob("*")) \
        if upload_server.uploads.exists() else True
    answer = httpx.post(f"{upload_server.url}/api/ask", timeout=120,
                        json={"question": "What does make run do?"}).json()
    assert not any("README" in c["source"] for c in answer["citations"] + answer["passages"])


@pytest.mark.slow
def test_a_real_upload_is_checked_then_dropped_from_the_cache_when_refused(upload_server, tmp_path):
    """What the page does: POST the file to Gradio's upload route, then send its FileData to the check."""
    def upload(name: str, data: bytes) -> dict:
        r = httpx.post(f"{upload_server.url}/gradio_api/upload", files={"files": (name, data)}, timeout=60)
        assert r.status_code == 200, r.text
        [path] = r.json()
        return {"path": path, "orig_name": name, "size": len(data), "meta": {"_type": "gradio.FileData"}}

    good = upload("notes.txt", b"The harbour master of Port Elsin in 1902 was Ewan Tulloch.\n")
    checked = json.dumps(gradio_event(upload_server, "on_upload", [good]), ensure_ascii=False)
    assert "Click “Rebuild index” to add it" in checked
    assert Path(good["path"]).exists()
    bad = upload("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    checked = json.dumps(gradio_event(upload_server, "on_upload", [bad]), ensure_ascii=False)
    assert "not a text file" in checked
    assert not Path(bad["path"]).exists()                          # refused: not kept in the cache
    too_big = httpx.post(f"{upload_server.url}/gradio_api/upload", timeout=60,
                         files={"files": ("big.txt", b"x" * (6 * 1024 * 1024))})
    assert too_big.status_code == 413
