"""`qa build --ray`: the same index as a build in one process, incremental, and a worker killed mid-build.

One local Ray is shared by the module: 3 CPUs, two for the shared runner's workers and one for the
runner that is not allowed to restart its worker (a worker takes a CPU; with none free it would wait). Groups of 48 sentences (instead of 256) give the
small corpus several embedding calls, so that a worker can be killed while others are still to come.
"""
import hashlib
import os
import shutil
import signal
import sys

import pytest

from qa.indexing import build as build_module
from qa.indexing.build import BuildError, LocalRunner, build
from qa.config import PROJECT_ROOT

TEXTS = [PROJECT_ROOT / "data" / "texts" / name
         for name in ("news-every-kid-in-a-park-website.txt", "story-saki-the-story-teller.txt")]
GROUP = 48


@pytest.fixture(scope="module", autouse=True)
def small_groups():
    saved = build_module.EMBED_GROUP
    build_module.EMBED_GROUP = GROUP
    yield
    build_module.EMBED_GROUP = saved


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    from qa.indexing.ray_build import start_local

    temp = start_local(num_cpus=3)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def runner(local_ray):
    from qa.indexing.ray_build import RayRunner

    with RayRunner(workers=2, max_restarts=3, max_task_retries=3) as r:
        yield r


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray-corpus")
    for path in TEXTS:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def plain(corpus, tmp_path_factory):
    index = tmp_path_factory.mktemp("plain") / "index"
    build([corpus], index)
    return index


def _same(a, b):
    from qa.bench.ray_build import same_index

    same = same_index(a, b)
    assert same["sentences.jsonl"] and same["chunks.jsonl"] and same["manifest"], same
    assert same["chunk_vectors_max_diff"] <= 1e-5 and same["sentence_vectors_max_diff"] <= 1e-5, same
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())


def _files(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class _KillOne:
    """The runner, with one worker process killed (SIGKILL) once the first group's result is back."""

    def __init__(self, runner):
        self.runner, self.killed = runner, None

    def prepare(self, docs, settings):
        return self.runner.prepare(docs, settings)

    def annotate_embed(self, groups):
        for n, item in enumerate(self.runner.annotate_embed(groups)):
            if n == 0:
                self.killed = self.runner.pids()[0]
                os.kill(self.killed, signal.SIGKILL)
            yield item


@pytest.mark.slow
def test_ray_build_is_the_plain_build(runner, corpus, plain, tmp_path):
    report = build([corpus], tmp_path / "index", runner=runner)
    assert len(report.indexed) == 2 and report.reused == []
    assert len(report.manifest["counts"]) and report.manifest["counts"]["sentences"] > 3 * GROUP
    _same(plain, tmp_path / "index")


@pytest.mark.slow
def test_only_new_and_changed_documents_go_to_the_cluster(runner, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for path in TEXTS:
        shutil.copy(path, folder / path.name)
    build([folder], tmp_path / "index", runner=LocalRunner())
    changed = folder / TEXTS[1].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThe aunt said nothing at all.\n", encoding="utf-8")
    sent = len(runner.sent)
    report = build([folder], tmp_path / "index", runner=runner)
    assert [s.rsplit("/", 1)[-1] for s in report.indexed] == [changed.name]
    assert [s.rsplit("/", 1)[-1] for s in report.reused] == [TEXTS[0].name]
    assert [s.rsplit("/", 1)[-1] for s in runner.sent[sent:]] == [changed.name]
    build([folder], tmp_path / "plain", force=True)
    _same(tmp_path / "plain", tmp_path / "index")
    # nothing changed: Ray is not asked at all
    assert build([folder], tmp_path / "index", runner=runner).unchanged and len(runner.sent) == sent + 1


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_the_index_is_the_same(runner, corpus, plain, tmp_path):
    killing = _KillOne(runner)
    build([corpus], tmp_path / "index", runner=killing)
    assert killing.killed and killing.killed not in runner.pids()      # restarted in a new process
    _same(plain, tmp_path / "index")


@pytest.mark.slow
def test_a_worker_killed_for_good_fails_in_one_line_and_keeps_the_old_index(local_ray, corpus, plain, tmp_path):
    from qa.indexing.ray_build import RayRunner

    target = tmp_path / "index"
    shutil.copytree(plain, target)
    before = _files(target)
    with RayRunner(workers=1, max_restarts=0, max_task_retries=0) as fragile:
        with pytest.raises(BuildError) as failure:
            build([corpus], target, force=True, runner=_KillOne(fragile))
    message = str(failure.value)
    assert "\n" not in message and "the previous index is unchanged" in message, message
    assert _files(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".index.lock", "index"]     # no staging left


def test_without_ray_the_error_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    from qa.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)       # `import ray` raises ImportError
    assert main(["build", str(TEXTS[0]), "--index", str(tmp_path / "index"), "--ray"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'qa[ray]'" in err, err
    assert not (tmp_path / "index").exists()


def test_a_path_after_ray_is_a_source_not_an_address():
    from qa.cli import _looks_like_address

    assert all(_looks_like_address(a) for a in ("local", "auto", "ray://head:10001", "10.0.0.5:6379"))
    assert not any(_looks_like_address(a) for a in ("docs", "data/texts", "notes.txt"))
