"""load_index refuses, with one IndexError_, an index whose manifest, sentences or chunks would fail later."""
import json
from pathlib import Path

import numpy as np
import pytest

from qa.config import ChunkSettings, settings_record
from qa.indexing.store import IndexError_, load_index, new_build_id, write_index
from qa.types import Chunk, Sentence


@pytest.fixture
def folder(tmp_path) -> Path:
    """Two sources: a.txt with three sentences in two chunks, b.txt with one; random unit vectors."""
    text = "One fact. Two facts. Three facts."
    sentences = [Sentence(0, "a.txt", 0, 9, "One fact.", [["CARDINAL", 0, 3]], [0]),
                 Sentence(1, "a.txt", 10, 20, "Two facts.", [], [0, 1]),
                 Sentence(2, "a.txt", 21, 33, "Three facts.", [], [1]),
                 Sentence(3, "b.txt", 0, 5, "Only.", [], [2])]
    chunks = [Chunk(0, "a.txt", 0, 1, 0, 20, 6), Chunk(1, "a.txt", 1, 2, 10, 33, 6), Chunk(2, "b.txt", 3, 3, 0, 5, 2)]
    rng = np.random.default_rng(0)
    sv, cv = rng.standard_normal((4, 384)).astype(np.float32), rng.standard_normal((3, 384)).astype(np.float32)
    sources = [{"source": "a.txt", "sha256": "0" * 64, "bytes": len(text), "chars": len(text), "encoding": "utf-8",
                "offsets": "file", "sentences": 3, "chunks": 2},
               {"source": "b.txt", "sha256": "1" * 64, "bytes": 6, "chars": 6, "encoding": "utf-8",
                "offsets": "file", "sentences": 1, "chunks": 1}]
    manifest = {**settings_record(ChunkSettings()), "build_id": new_build_id(), "built_at": "", "sources": sources,
                "counts": {"sources": 2, "sentences": 4, "chunks": 3}}
    write_index(tmp_path / "index", manifest, sentences, chunks, cv / np.linalg.norm(cv, axis=1, keepdims=True),
                sv / np.linalg.norm(sv, axis=1, keepdims=True))
    return tmp_path / "index"


def edit_manifest(folder, **changes):
    path = folder / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def edit_source(folder, **changes):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sources"][0].update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def edit_row(name, n, **changes):
    def edit(folder):
        path = folder / name
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        rows[n].update(changes)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return edit


MALFORMED = {
    "sources not a list": (lambda f: edit_manifest(f, sources="oops"), "sources is not a list"),
    "a source not a table": (lambda f: edit_manifest(f, sources=["a.txt", "b.txt"]), "a source without a name"),
    "counts not a table": (lambda f: edit_manifest(f, counts=[4, 3]), "counts is not a table"),
    "count a string": (lambda f: edit_manifest(f, counts={"sources": 2, "sentences": "4", "chunks": 3}),
                       "counts is not a table"),
    "build_id a number": (lambda f: edit_manifest(f, build_id=7), "build_id is not a string"),
    "bytes a string": (lambda f: edit_source(f, bytes="33"), "bytes of a.txt is not a count"),
    "unknown encoding": (lambda f: edit_source(f, encoding="klingon"), "unknown encoding 'klingon'"),
    "stored text outside the index": (lambda f: edit_source(f, text="../../etc/passwd"),
                                      "text of a.txt is not a file in sources/"),
    "chunk past the sentences": (edit_row("chunks.jsonl", 2, first=3, last=9),
                                 "chunk 2 points at sentences that do not exist"),
    "chunk first after last": (edit_row("chunks.jsonl", 1, first=2, last=1),
                               "chunk 1 points at sentences that do not exist"),
    "chunk negative": (edit_row("chunks.jsonl", 0, first=-1), "chunk 0 points at sentences that do not exist"),
    "chunk offsets not its sentences'": (edit_row("chunks.jsonl", 0, end=500), "chunk 0 does not match"),
    "chunk first a string": (edit_row("chunks.jsonl", 0, first="0"), "chunk 0 has fields of the wrong type"),
    "chunk ids out of order": (edit_row("chunks.jsonl", 0, id=5), "chunk 0 has fields of the wrong type"),
    "sentence start a string": (edit_row("sentences.jsonl", 1, start="10"), "sentence 1 has fields of the wrong"),
    "sentence text a number": (edit_row("sentences.jsonl", 1, text=10), "sentence 1 has fields of the wrong"),
    "sentence chunks not a list": (edit_row("sentences.jsonl", 1, chunks=0), "sentence 1 has fields of the wrong"),
    "sentence end before start": (edit_row("sentences.jsonl", 1, start=20, end=10), "sentence 1 has offsets"),
    "sentence past its source": (edit_row("sentences.jsonl", 2, start=100, end=112), "sentence 2 has offsets"),
    "sentence from an unlisted source": (edit_row("sentences.jsonl", 3, source="c.txt"),
                                         "sentence 3 comes from a source the manifest does not list"),
    "sentence naming a missing chunk": (edit_row("sentences.jsonl", 0, chunks=[7]),
                                        "sentence 0 names a chunk that does not exist"),
    "sentence naming a chunk without it": (edit_row("sentences.jsonl", 0, chunks=[1]),
                                           "sentence 0 names chunk 1, which does not hold it"),
    "entity out of its sentence": (edit_row("sentences.jsonl", 0, entities=[["DATE", 0, 99]]),
                                   "sentence 0 has a malformed entity"),
    "entity not a triple": (edit_row("sentences.jsonl", 0, entities=["DATE"]), "sentence 0 has a malformed entity"),
}


def test_the_fixture_loads(folder):
    index = load_index(folder)
    assert len(index.sentences) == 4 and len(index.chunks) == 3


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_index_is_refused_at_load(case, folder):
    corrupt, message = MALFORMED[case]
    corrupt(folder)
    with pytest.raises(IndexError_) as caught:
        load_index(folder)
    line = str(caught.value)
    assert message in line and "rebuild with `qa build --force`" in line and "\n" not in line, line
