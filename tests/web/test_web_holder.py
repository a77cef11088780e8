"""IndexHolder: load once, re-load after a rebuild is swapped in, keep serving if the new one is broken."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from qa.indexing.store import IndexError_, swap_in
from qa.web.holder import IndexHolder, manifest_summary

pytestmark = pytest.mark.slow     # uses a real index built with the real model (shared with the server tests)


@pytest.fixture
def folder(web_index, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(web_index, target)
    return target


def rewrite_manifest(folder, **changes):
    path = folder / "manifest.json"
    manifest = {**json.loads(path.read_text(encoding="utf-8")), **changes}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(tmp, path)


def test_loads_once_and_reuses(folder):
    holder = IndexHolder(folder)
    first = holder.get()
    assert holder.get() is first


def test_rewritten_manifest_with_same_build_id_does_not_reload(folder):
    holder = IndexHolder(folder)
    first = holder.get()
    rewrite_manifest(folder)
    assert holder.get() is first


def test_new_build_id_reloads(folder):
    holder = IndexHolder(folder)
    first = holder.get()
    rewrite_manifest(folder, build_id="rebuilt")
    second = holder.get()
    assert second is not first and second.build_id == "rebuilt"
    assert holder.get() is second


def test_swapped_in_folder_is_picked_up(folder):
    holder = IndexHolder(folder)
    first = holder.get()
    new = folder.with_name("index.new")
    shutil.copytree(folder, new)
    rewrite_manifest(new, build_id="swapped")
    swap_in(new, folder)
    assert holder.get().build_id == "swapped"
    assert first.build_id != "swapped"


def test_broken_rebuild_keeps_the_old_index(folder):
    holder = IndexHolder(folder)
    first = holder.get()
    good = (folder / "manifest.json").read_text(encoding="utf-8")
    (folder / "manifest.json").write_text("{ not json", encoding="utf-8")
    assert holder.get() is first
    (folder / "manifest.json").unlink()
    assert holder.get() is first
    rewrite_target = folder / "manifest.json"
    rewrite_target.write_text(json.dumps({**json.loads(good), "build_id": "fixed"}), encoding="utf-8")
    assert holder.get().build_id == "fixed"


def _corrupt_chunks(folder):
    path = folder / "chunks.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows[0]["first"], rows[0]["last"] = 5, 2                  # first after last
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _wrong_typed_sentence(folder):
    path = folder / "sentences.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows[3]["start"] = str(rows[3]["start"])
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.mark.parametrize("corrupt", [
    lambda folder: rewrite_manifest(folder, build_id="bad", sources="oops"),
    lambda folder: rewrite_manifest(folder, build_id="bad", counts=["not", "a", "table"]),
    lambda folder: (_corrupt_chunks(folder), rewrite_manifest(folder, build_id="bad")),
    lambda folder: (_wrong_typed_sentence(folder), rewrite_manifest(folder, build_id="bad")),
], ids=["sources-not-a-list", "counts-not-a-table", "chunk-first-after-last", "sentence-start-a-string"])
def test_malformed_rebuild_with_a_new_build_id_keeps_the_old_index(folder, corrupt):
    """A malformed manifest with a new build_id used to be loaded, and every request then answered 500."""
    holder = IndexHolder(folder)
    first = holder.get()
    corrupt(folder)
    assert holder.get() is first
    assert manifest_summary(holder.get())["build_id"] == first.build_id


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexError_, match="no index"):
        IndexHolder(tmp_path / "nothing").get()


def test_summary_has_what_the_header_and_health_need(folder):
    summary = manifest_summary(IndexHolder(folder).get())
    assert summary["counts"]["sentences"] > 0 and summary["built_at"] and summary["model"]
    assert summary["sources"][0]["source"].endswith("pak-us-diplomatic-relations.txt")
