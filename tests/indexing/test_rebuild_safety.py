"""A rebuild that is killed, fails, or races another one leaves a loadable index behind: the old one or the new."""
import hashlib
import os
import pty
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.answering.ask import ask
from qa.config import DEFAULT_SOURCE, PROJECT_ROOT
from qa.indexing.store import IndexError_, load_index, read_manifest

pytestmark = pytest.mark.slow

QUESTION = "When did Pakistan sign the Mutual Defense Assistance Agreement?"
COPIES = 3


@pytest.fixture
def index(article_index, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(article_index.folder, folder)
    return folder


@pytest.fixture
def corpus(tmp_path):
    """Three copies of the article under different names: a build of a few seconds once the model is loaded."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    text = DEFAULT_SOURCE.read_text(encoding="utf-8")
    for n in range(COPIES):
        (folder / f"article-{n}.txt").write_text(f"Copy number {n}.\n\n{text}", encoding="utf-8")
    return folder


def start_build(corpus, index, *extra, **popen):
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-m", "qa", "build", "--force", str(corpus), "--index", str(index),
                             *extra], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"), **popen)


class Terminal:
    """A pseudo-terminal for a build's stderr: on a terminal `qa build` logs each document it embeds."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.shown = b""

    def saw(self, text: str) -> bool:
        try:
            self.shown += os.read(self.master, 65536)
        except (BlockingIOError, OSError):
            pass
        return text.encode() in self.shown

    def close(self):
        os.close(self.master)
        os.close(self.slave)


def run_build(corpus, index, *extra):
    proc = start_build(corpus, index, *extra)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def fingerprint(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(index: Path) -> list[str]:
    return sorted(p.name for p in index.parent.glob(f".{index.name}.*") if not p.name.endswith(".lock"))


def lock_is_held(index: Path) -> bool:
    """Whether some process holds the build lock, read from /proc/locks (probing with flock would race)."""
    lock = index.with_name(f".{index.name}.lock")
    try:
        st = os.stat(lock)
    except FileNotFoundError:
        return False
    wanted = f":{st.st_ino} "
    return any(wanted in line + " " for line in Path("/proc/locks").read_text().splitlines())


def wait_for(condition, proc, timeout=240.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the build ended (exit {proc.returncode}) before the moment to kill it")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the build")
        time.sleep(0.001)


def staging_without_manifest(index: Path) -> bool:
    return any(not (p / "manifest.json").exists() for p in index.parent.glob(f".{index.name}.build-*"))


def current_build_id(index: Path):
    try:
        return read_manifest(index)["build_id"]
    except IndexError_:
        return None


def answers(index: Path) -> str:
    return ask(load_index(index), QUESTION).answer


def test_kill_9_at_any_point_leaves_a_loadable_index(corpus, index):
    old = load_index(index).build_id
    moments = {
        "after 0.5 s (starting up)": lambda proc: time.sleep(0.5),
        "after 2 s (loading the model)": lambda proc: time.sleep(2.0),
        "holding the lock": lambda proc: wait_for(lambda: lock_is_held(index), proc),
        "while embedding the second document": lambda proc: wait_for(lambda: terminal.saw("article-1.txt"), proc),
        "while writing the staging folder": lambda proc: wait_for(lambda: staging_without_manifest(index), proc),
    }
    for moment, wait in moments.items():
        terminal = Terminal()     # only read while embedding; elsewhere its stderr is a pipe and stays quiet
        proc = start_build(corpus, index, stderr=terminal.slave if "embedding" in moment else subprocess.PIPE)
        try:
            wait(proc)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            terminal.close()
        assert proc.returncode == -signal.SIGKILL, moment
        loaded = load_index(index)
        assert loaded.build_id == old, f"killed {moment}: the index changed"
        assert "May 1954" in ask(loaded, QUESTION).answer, moment
    assert leftovers(index), "the kill while writing leaves its staging folder behind"

    # killed right after the swap: the new index is in place and whole; the old one may be left to clean up
    proc = start_build(corpus, index)
    wait_for(lambda: current_build_id(index) not in (old, None), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    swapped = load_index(index)
    assert swapped.build_id != old and {s["source"] for s in swapped.manifest["sources"]} == \
        {f"{corpus}/article-{n}.txt" for n in range(COPIES)}
    assert "May 1954" in answers(index)

    # the next build succeeds, and cleans up whatever the killed ones left
    code, out, err = run_build(corpus, index)
    assert code == 0, err
    assert leftovers(index) == []
    assert load_index(index).build_id not in (old, swapped.build_id)
    assert "May 1954" in answers(index)


def test_second_concurrent_build_is_refused_clearly(corpus, index):
    old = load_index(index).build_id
    first = start_build(DEFAULT_SOURCE, index)      # holds the lock while it loads the model and embeds
    wait_for(lambda: lock_is_held(index), first)
    code, out, err = run_build(corpus, index)
    assert code == 1
    assert err.strip() == f"qa: error: another build of {index} is running; try again when it ends"
    assert load_index(index).build_id == old, "the refused build touched nothing"
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert load_index(index).build_id != old and leftovers(index) == []
    assert "May 1954" in answers(index)


def _limit_file_size():
    """Files over 16 KB cannot be written (EFBIG, even for root): the staging folder fails part way."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))


def test_build_failing_while_writing_leaves_the_old_index_untouched(index):
    before = fingerprint(index)
    old = load_index(index).build_id
    proc = start_build(DEFAULT_SOURCE, index, preexec_fn=_limit_file_size)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert err.strip() == f"qa: error: cannot write the index to {index}: File too large; " \
                          "the previous index is unchanged"
    assert fingerprint(index) == before and load_index(index).build_id == old
    assert leftovers(index) == [], "the failed build removed its staging folder"
    assert "May 1954" in answers(index)


def test_interrupted_swap_without_renameat2_is_restored(index):
    """Where renameat2 is missing the swap is two renames; a kill between them is undone by the next build."""
    from qa.indexing.build import build

    old = load_index(index).build_id
    index.rename(index.with_name(f".{index.name}.old-deadbeef"))    # as if killed between the renames
    report = build([DEFAULT_SOURCE], index)
    assert report.unchanged and load_index(index).build_id == old
    assert leftovers(index) == []


def test_loading_while_swaps_land_never_mixes_two_builds(article_index, tmp_path):
    """A reader (the chat re-loading after a rebuild) sees one build or the next, never parts of both."""
    import json
    import random
    import threading

    from qa.indexing.build import build
    from qa.indexing.store import swap_in

    text = DEFAULT_SOURCE.read_text(encoding="utf-8")
    changed = tmp_path / "changed" / "data" / DEFAULT_SOURCE.name
    changed.parent.mkdir(parents=True)
    changed.write_text(text.replace("May 1954", "June 1955"), encoding="utf-8")
    build([changed], tmp_path / "other", root=tmp_path / "changed")       # same counts, other text and vectors
    # a queue of rebuilds, alternating between the two texts, each with its own build_id
    builds, versions = [], {}
    for n in range(150):
        folder = tmp_path / "queue" / f"{n:03d}"
        shutil.copytree(article_index.folder if n % 2 else tmp_path / "other", folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["build_id"] = f"build-{n:03d}"
        (folder / "manifest.json").write_text(json.dumps(manifest))
        builds.append(folder)
        versions[manifest["build_id"]] = "May 1954" if n % 2 else "June 1955"
    target = tmp_path / "index"
    shutil.copytree(builds[0], target)

    stop = threading.Event()

    def rebuild_now_and_then():
        for folder in builds[1:]:
            if stop.is_set():
                break
            swap_in(folder, target)
            time.sleep(random.uniform(0.0, 0.03))

    swapper = threading.Thread(target=rebuild_now_and_then)
    swapper.start()
    loads = failures = 0
    try:
        while swapper.is_alive():
            try:
                index = load_index(target)
            except IndexError_ as exc:
                assert "kept changing" in str(exc)
                failures += 1
                continue
            loads += 1
            marker = versions[index.build_id]
            assert any(marker in s.text for s in index.sentences), "sentences of another build"
            assert len(index.sentences) == index.manifest["counts"]["sentences"]
    finally:
        stop.set()
        swapper.join()
    assert loads > 10 and failures <= loads
