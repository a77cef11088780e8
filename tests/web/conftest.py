"""Fixtures for the web tests: a real index, a real server in a subprocess, Debian's Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qa.config import DEFAULT_SOURCE, PROJECT_ROOT

SERVER_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
STARTUP_TIMEOUT = 120   # seconds; the model load is about 5 s, slower on a busy machine
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
OUTPUT = PROJECT_ROOT / "test-output"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict:
    return {**os.environ, **SERVER_ENV}


def qa_build(sources: list, folder: Path) -> subprocess.CompletedProcess:
    """`python -m qa build SOURCES --index FOLDER --quiet`; fails the test if it fails."""
    result = subprocess.run([sys.executable, "-m", "qa", "build", *map(str, sources), "--index", str(folder),
                             "--quiet"], cwd=PROJECT_ROOT, env=child_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"qa build failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def web_index(tmp_path_factory) -> Path:
    """The bundled article indexed into a temporary folder with `qa build` (the real model)."""
    folder = tmp_path_factory.mktemp("web") / "index"
    qa_build([DEFAULT_SOURCE], folder)
    return folder


class Server:
    def __init__(self, url: str, process: subprocess.Popen, log: Path, startup_seconds: float, index: Path,
                 uploads: Path | None = None):
        self.url, self.process, self.log, self.startup_seconds, self.index = url, process, log, startup_seconds, index
        self.uploads = uploads

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def run_server(index: Path, log: Path, env: dict | None = None, uploads: Path | None = None):
    """A generator for fixtures: `python -m qa serve` on a free port, yielded once /api/health answers."""
    port = free_port()
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index", str(index),
                                    "--port", str(port)], cwd=PROJECT_ROOT, env={**child_env(), **(env or {})},
                                   stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, process, log)
        yield Server(url, process, log, time.perf_counter() - started, index, uploads)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def server(web_index, tmp_path_factory) -> Server:
    """`python -m qa serve` on a free port, ready once /api/health answers; stopped at the end."""
    yield from run_server(web_index, tmp_path_factory.mktemp("server") / "server.log")


@pytest.fixture(scope="session")
def upload_index(tmp_path_factory) -> Path:
    """A second index of the article, for the server whose index the upload tests rebuild."""
    folder = tmp_path_factory.mktemp("webup") / "index"
    qa_build([DEFAULT_SOURCE], folder)
    return folder


@pytest.fixture(scope="session")
def upload_server(upload_index, tmp_path_factory) -> Server:
    """A server of its own for the upload tests (uploads on, saved in `<index>.uploads` beside the index)."""
    uploads = upload_index.with_name("index.uploads")
    env = {"QA_UPLOADS": "1", "QA_UPLOADS_DIR": ""}
    yield from run_server(upload_index, tmp_path_factory.mktemp("upload-server") / "server.log", env, uploads)


def wait_for_health(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with code {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer /api/health within {STARTUP_TIMEOUT} s:\n"
                f"{log.read_text(errors='replace')[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def api(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


# ---------------------------------------------------------------- browser (pytest-playwright)

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's (`apt-get install -y chromium`) or set "
                    "CHROMIUM_PATH; never `playwright install`")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session", autouse=True)
def _slow_machine_timeouts():
    try:
        from playwright.sync_api import expect
    except ImportError:
        return
    expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


class ChatPage:
    """The chat page as a user sees it."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url
        self.question = page.locator("#qa-question textarea")
        self.replies = page.locator("#qa-chat .qa-msg")          # bot messages, answers and errors alike
        self.user_messages = page.locator("#qa-chat .qa-q")
        self.panel = page.locator("#qa-sources .qa-panel")

    def open(self) -> "ChatPage":
        from playwright.sync_api import expect

        self.page.goto(self.url + "/")
        expect(self.question).to_be_editable()
        expect(self.page.locator("#qa-header")).to_contain_text("sentences")
        return self

    def ask(self, question: str):
        """Type a question, press Enter and return the reply that appears."""
        from playwright.sync_api import expect

        before = self.replies.count()
        self.question.fill(question)
        self.question.press("Enter")
        expect(self.replies).to_have_count(before + 1)
        reply = self.replies.nth(before)
        turn = reply.get_attribute("data-turn")
        if turn:    # an answer (not an error): wait until the source panel shows it too
            expect(self.panel.locator(f"#turn-{turn}")).to_have_attribute("open", "")
        return reply


@pytest.fixture
def chat(page, server) -> ChatPage:
    page.set_default_timeout(30_000)
    return ChatPage(page, server.url).open()


@pytest.fixture
def upload_chat(page, upload_server) -> ChatPage:
    """The chat page of the upload tests' own server."""
    page.set_default_timeout(30_000)
    return ChatPage(page, upload_server.url).open()


@pytest.fixture(scope="session")
def build_with_cli():
    """`qa_build(sources, folder)`: a rebuild by `python -m qa build` in another process."""
    return qa_build


@pytest.fixture
def start_server():
    """`run_server(index, log, env)`: a generator yielding a server of the test's own (close it to stop it)."""
    return run_server


@pytest.fixture
def open_chat():
    """`open_chat(page, url)`: the chat page of any server, opened."""
    return lambda page, url: ChatPage(page, url).open()
