import hashlib
import json
import logging
import shutil

import pytest

from qa.indexing.build import BuildError, build, build_lock
from qa.config import DEFAULT_INDEX, DEFAULT_SOURCE, ChunkSettings, settings_record
from qa.indexing.store import IndexError_, load_index

pytestmark = pytest.mark.slow


def test_manifest_records_model_settings_sources_and_counts(article_index, article_text):
    m = article_index.manifest
    assert m["model"] == "sentence-transformers/all-MiniLM-L6-v2" and m["dims"] == 384
    assert m["chunking"] == {"max_tokens": ChunkSettings().max_tokens,
                             "overlap_sentences": ChunkSettings().overlap_sentences}
    [source] = m["sources"]
    assert source["source"] == "data/pak-us-diplomatic-relations.txt"
    assert source["sha256"] == hashlib.sha256(DEFAULT_SOURCE.read_bytes()).hexdigest()
    assert m["counts"] == {"sources": 1, "sentences": len(article_index.sentences),
                           "chunks": len(article_index.chunks)}
    assert m["built_at"] and m["build_id"]


def test_sentence_offsets_point_into_the_file(article_index, article_text):
    for s in article_index.sentences:
        assert article_text[s.start:s.end] == s.text
    assert not any("Comments are closed" in s.text for s in article_index.sentences), "page furniture dropped"


def test_a_build_and_a_load_log_nothing_below_warning(tmp_path, caplog):
    """bm25s sets its logger to DEBUG when imported; a build must not print its chatter."""
    caplog.set_level(logging.DEBUG)
    build([DEFAULT_SOURCE], tmp_path / "index")
    load_index(tmp_path / "index")
    assert [(r.name, r.levelname) for r in caplog.records if r.name.startswith("bm25s")] == []


def test_committed_index_is_fresh():
    """Fails when data/ or the chunk settings changed without `qa build` being run."""
    manifest = json.loads((DEFAULT_INDEX / "manifest.json").read_text())
    expected = settings_record(ChunkSettings())
    assert {k: manifest[k] for k in expected} == expected, "index/ was built with other settings: run `qa build`"
    [source] = manifest["sources"]
    assert source["sha256"] == hashlib.sha256(DEFAULT_SOURCE.read_bytes()).hexdigest(), \
        "data/ changed since index/ was built: run `qa build`"
    load_index(DEFAULT_INDEX)


@pytest.fixture
def copied_index(article_index, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(article_index.folder, folder)
    return folder


def _edit_manifest(folder, **changes):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("change,message", [
    ({"model": "sentence-transformers/other-model"}, "model"),
    ({"dims": 768}, "dims"),
    ({"format": 999}, "format"),
])
def test_index_from_other_model_or_format_is_refused(copied_index, change, message):
    _edit_manifest(copied_index, **change)
    with pytest.raises(IndexError_, match=message):
        load_index(copied_index)


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexError_, match="qa build"):
        load_index(tmp_path / "nothing")


def test_corrupt_manifest_is_refused(copied_index):
    (copied_index / "manifest.json").write_text("{not json")
    with pytest.raises(IndexError_, match="corrupt"):
        load_index(copied_index)


def test_truncated_faiss_file_is_refused(copied_index):
    path = copied_index / "chunks.faiss"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexError_, match="corrupt"):
        load_index(copied_index)


def test_rebuild_of_unchanged_sources_is_skipped_and_force_rebuilds(copied_index):
    before = load_index(copied_index).build_id
    report = build([DEFAULT_SOURCE], copied_index)
    assert report.unchanged and load_index(copied_index).build_id == before
    report = build([DEFAULT_SOURCE], copied_index, force=True)
    assert not report.unchanged and load_index(copied_index).build_id != before


def test_second_build_on_a_locked_index_is_refused(copied_index):
    with build_lock(copied_index):
        with pytest.raises(BuildError, match="another build"):
            build([DEFAULT_SOURCE], copied_index, force=True)
    load_index(copied_index)


def test_folder_without_text_is_refused(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "image.png").write_bytes(b"\x89PNG\x00\x00")
    with pytest.raises(BuildError, match="no readable text"):
        build([tmp_path / "docs"], tmp_path / "index")
    assert not (tmp_path / "index").exists()
