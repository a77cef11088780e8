"""An index is stale when a fresh build of its sources differs from it, whatever the files' times say."""
import os

from qa.evaluation.corpora import document_index
from qa.evaluation.freshness import index_is_stale, indexing_code_hash
from qa.indexing.build import build

TEXT = ("The bridge was opened in 1932 by the mayor. It carries six lanes of traffic. "
        "Engineers inspect its cables every spring.\n")


def test_stale_by_content_not_by_time(tmp_path):
    source = tmp_path / "bridge.txt"
    source.write_text(TEXT, encoding="utf-8")
    folder = tmp_path / "index"
    build([source], folder, root=tmp_path)
    old = 946684800                                     # 2000-01-01: older than any code on disk
    os.utime(folder / "manifest.json", (old, old))
    assert not index_is_stale(folder, root=tmp_path)    # an old file time alone is not staleness
    source.write_text(TEXT.replace("six lanes", "four lanes"), encoding="utf-8")
    assert index_is_stale(folder, root=tmp_path)        # what a build of its source gives now differs


def test_evaluation_indexes_carry_the_code_they_were_built_with(tmp_path):
    source = tmp_path / "bridge.txt"
    source.write_text(TEXT, encoding="utf-8")
    folder = tmp_path / "bridge.index"
    index = document_index(source, folder)
    stamp = tmp_path / "bridge.index.code"
    assert stamp.read_text().strip() == indexing_code_hash() and len(index.sentences) == 3
    stamp.write_text("0" * 16)                          # as if built by other indexing code
    rebuilt = document_index(source, folder)
    assert rebuilt.build_id != index.build_id and stamp.read_text().strip() == indexing_code_hash()
    assert document_index(source, folder).build_id == rebuilt.build_id      # unchanged: left as it is
