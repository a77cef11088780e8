"""Rebuilding an index over a folder of documents: change detection, progress, HTML, citations."""
import json
import os
import pty
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from qa.answering.ask import ask
from qa.indexing.build import build
from qa.config import DEFAULT_SOURCE, PROJECT_ROOT
from qa.indexing.store import load_index, normalise

pytestmark = pytest.mark.slow

NOTES = {
    "garden.md": "# Garden notes\n\nThe tomatoes were planted on 3 April 2024.\nThey were watered daily by Maria Lopez.\n",
    "boat.txt": "The sailing boat Albatross was built in Bristol in 1962. Its mast is eleven metres tall.\n",
    "library.txt": "The town library opened in 1887. It holds about forty thousand books and a collection of maps.\n",
    "sub/bridge.md": "## The old bridge\n\nThe stone bridge over the river Avon was completed in 1780 by the engineer "
                     "Thomas Hale.\n",
}
SOURCES = sorted(["article.txt", *NOTES])


def write_corpus(folder):
    folder.mkdir(parents=True)
    shutil.copy(DEFAULT_SOURCE, folder / "article.txt")
    for name, text in NOTES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built_corpus(tmp_path_factory):
    """A folder of five documents (one in a subfolder) and its index; sources are recorded relative to it."""
    base = tmp_path_factory.mktemp("corpus")
    docs = write_corpus(base / "docs")
    report = build([docs], base / "index", root=docs)
    assert sorted(report.indexed) == SOURCES and not report.reused
    return docs, base / "index"


@pytest.fixture
def corpus(built_corpus, tmp_path):
    """A private copy of the corpus and its index, to change."""
    docs, index = built_corpus
    shutil.copytree(docs, tmp_path / "docs")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "docs", tmp_path / "index"


def same_index(a, b):
    """Two indexes hold the same sentences, chunks and (to float noise) vectors."""
    assert [s.__dict__ for s in a.sentences] == [s.__dict__ for s in b.sentences]
    assert [c.__dict__ for c in a.chunks] == [c.__dict__ for c in b.chunks]
    assert np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-5)
    va = a.chunk_vectors.reconstruct_n(0, a.chunk_vectors.ntotal)
    vb = b.chunk_vectors.reconstruct_n(0, b.chunk_vectors.ntotal)
    assert np.allclose(va, vb, atol=1e-5)
    strip = ("build_id", "built_at", "build_seconds")
    assert {k: v for k, v in a.manifest.items() if k not in strip} == \
        {k: v for k, v in b.manifest.items() if k not in strip}


def test_changed_document_is_the_only_one_embedded_again(corpus, tmp_path):
    docs, index = corpus
    before = load_index(index)
    (docs / "boat.txt").write_text("The sailing boat Albatross was built in Falmouth in 1971. Its mast is twelve "
                                   "metres tall.\n", encoding="utf-8")
    logged = []
    report = build([docs], index, root=docs, log=logged.append)
    assert report.indexed == ["boat.txt"] and logged == ["indexing boat.txt"]
    assert sorted(report.reused) == sorted(set(SOURCES) - {"boat.txt"})
    after = load_index(index)
    assert after.build_id != before.build_id
    # the same as building everything from scratch
    same_index(after, load_index(build([docs], tmp_path / "fresh", root=docs, force=True).index))
    answer = ask(after, "Where was the Albatross built?")
    assert "Falmouth" in answer.answer and answer.citations[0].source == "boat.txt"


def test_removed_document_disappears_and_added_one_appears(corpus):
    docs, index = corpus
    (docs / "library.txt").unlink()
    (docs / "mill.txt").write_text("The windmill at Harwell was built in 1931.\n", encoding="utf-8")
    report = build([docs], index, root=docs)
    assert report.indexed == ["mill.txt"]
    assert sorted(report.reused) == sorted(set(SOURCES) - {"library.txt"})
    after = load_index(index)
    assert [s["source"] for s in after.manifest["sources"]] == sorted(set(SOURCES) - {"library.txt"} | {"mill.txt"})
    assert not any(s.source == "library.txt" for s in after.sentences)
    assert not any("library" in s.text for s in after.sentences)
    answer = ask(after, "When was the windmill at Harwell built?")
    assert "1931" in answer.answer and answer.citations[0].source == "mill.txt"

    (docs / "garden.md").unlink()            # only a removal: nothing to embed, yet a new index
    report = build([docs], index, root=docs)
    assert report.indexed == [] and not report.unchanged
    assert "garden.md" not in {s.source for s in load_index(index).sentences}


def test_unchanged_corpus_is_up_to_date_in_well_under_a_second(corpus):
    docs, index = corpus
    before = load_index(index).build_id
    started = time.perf_counter()
    report = build([docs], index, root=docs)
    seconds = time.perf_counter() - started
    assert report.unchanged and report.indexed == [] and sorted(report.reused) == SOURCES
    assert load_index(index).build_id == before
    assert seconds < 1.0, f"an unchanged rebuild took {seconds:.2f} s"
    # touching a file without changing its bytes is no change either
    os.utime(docs / "boat.txt")
    assert build([docs], index, root=docs).unchanged


def test_force_embeds_everything_again(corpus):
    docs, index = corpus
    before = load_index(index).build_id
    report = build([docs], index, root=docs, force=True)
    assert sorted(report.indexed) == SOURCES and not report.reused and not report.unchanged
    assert load_index(index).build_id != before


def test_other_chunk_settings_embed_everything_again(corpus):
    from qa.config import ChunkSettings

    docs, index = corpus
    report = build([docs], index, root=docs, settings=ChunkSettings(max_tokens=60, overlap_sentences=0))
    assert sorted(report.indexed) == SOURCES and not report.reused


@pytest.mark.parametrize("question,answer,source", [
    ("When were the tomatoes planted?", "3 April 2024", "garden.md"),
    ("Who completed the stone bridge over the Avon?", "Thomas Hale", "sub/bridge.md"),
    ("When did the town library open?", "1887", "library.txt"),
    ("When did Pakistan sign the Mutual Defense Assistance Agreement?", "May 1954", "article.txt"),
])
def test_every_citation_names_its_source_and_points_into_it(built_corpus, question, answer, source):
    docs, folder = built_corpus
    index = load_index(folder)
    result = ask(index, question)
    assert answer in result.answer
    assert result.citations and result.answer_source == source
    for c in result.citations:
        text = (docs / c.source).read_text(encoding="utf-8")
        assert normalise(text[c.start:c.end]) == c.text
        assert index.source_text(c.source, root=docs) == text


def test_progress_bar_counts_documents_and_sentences(corpus, capsys):
    docs, index = corpus
    report = build([docs], index, root=docs, force=True, progress=True)
    err = capsys.readouterr().err
    assert "embedding document 5/5" in err
    sentences = report.manifest["counts"]["sentences"]
    assert f"{sentences}/{sentences} sentences" in err and "sentences/s" in err
    build([docs], index, root=docs, force=True)
    assert capsys.readouterr().err == "", "no bar unless asked for"


def run_build_on_terminal(*args):
    """`qa build` with stderr on a pseudo-terminal; returns (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qa", "build", *args], stdout=subprocess.PIPE, stderr=slave,
                            cwd=PROJECT_ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:          # the child closed the terminal
            break
        if not data:
            break
        shown += data
    os.close(master)
    out = proc.stdout.read().decode()
    return proc.wait(timeout=300), out, shown.decode(errors="replace")


def test_cli_shows_the_bar_only_on_a_terminal_and_not_when_quiet(tmp_path):
    docs = write_corpus(tmp_path / "docs")
    (docs / "article.txt").unlink()
    code, out, shown = run_build_on_terminal(str(docs), "--index", str(tmp_path / "index"))
    assert code == 0 and "built" in out
    assert "embedding document 4/4" in shown and "sentences/s" in shown and "indexing" in shown
    code, out, shown = run_build_on_terminal(str(docs), "--index", str(tmp_path / "index"), "--force", "--quiet")
    assert code == 0 and "built" in out and shown.strip() == ""
    result = subprocess.run([sys.executable, "-m", "qa", "build", str(docs), "--index", str(tmp_path / "index"),
                             "--force"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=300)
    assert result.returncode == 0 and result.stderr == "", "no bar when stderr is not a terminal"
    result = subprocess.run([sys.executable, "-m", "qa", "build", str(docs), "--index", str(tmp_path / "index")],
                            capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=300)
    assert result.returncode == 0 and "up to date" in result.stdout


HTML = """<!doctype html>
<html><head><title>Harbour history</title>
<style>body { color: #333 } .lighthouse { display: none }</style>
<script>var lighthouse = "built in 1066"; document.write("The lighthouse was painted red.");</script>
</head>
<body>
<nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<article>
<h1>The harbour lighthouse</h1>
<p>The lighthouse at Port Ellen was first lit on 12 October 1832.
It was designed by the engineer <b>Robert Stevenson</b>.</p>
<!-- a comment: the lighthouse was demolished in 1999 -->
<p>Its lamp was converted to electricity in 1951 &amp; automated in 1984.</p>
<script type="application/ld+json">{"builtIn": "1700"}</script>
</article>
<p>Comments are closed.</p>
</body></html>
"""


def test_html_drops_scripts_and_styles_and_cites_into_the_stored_text(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbour.html").write_text(HTML, encoding="utf-8")
    shutil.copy(DEFAULT_SOURCE, docs / "article.txt")
    report = build([docs], tmp_path / "index", root=docs)
    index = load_index(report.index)
    text = " ".join(s.text for s in index.sentences if s.source == "harbour.html")
    for dropped in ("1066", "painted red", "color", "1999", "1700", "builtIn", "Home", "Comments are closed"):
        assert dropped not in text
    assert "12 October 1832" in text and "electricity in 1951 & automated" in text
    sources = {s["source"]: s for s in index.manifest["sources"]}
    html, plain = sources["harbour.html"], sources["article.txt"]
    assert html["offsets"] == "extracted-text" and plain["offsets"] == "file" and "text" not in plain
    stored = (report.index / html["text"]).read_text(encoding="utf-8")
    assert index.source_text("harbour.html") == stored
    for s in index.sentences:
        if s.source == "harbour.html":
            assert stored[s.start:s.end] == s.text
    answer = ask(index, "When was the lighthouse at Port Ellen first lit?")
    assert "12 October 1832" in answer.answer
    c = answer.citations[0]
    assert c.source == "harbour.html" and normalise(stored[c.start:c.end]) == c.text
    assert normalise(stored[answer.answer_start:answer.answer_end]) == answer.answer
    # the stored text makes the HTML source's change detection work like any other
    assert build([docs], tmp_path / "index", root=docs).unchanged
    (docs / "harbour.html").write_text(HTML.replace("1951", "1952"), encoding="utf-8")
    report = build([docs], tmp_path / "index", root=docs)
    assert report.indexed == ["harbour.html"] and report.reused == ["article.txt"]
    html = next(s for s in report.manifest["sources"] if s["source"] == "harbour.html")
    assert "1952" in (report.index / html["text"]).read_text(encoding="utf-8")
    assert [p.name for p in (report.index / "sources").iterdir()] == [html["text"].split("/")[1]]


def test_index_folder_inside_the_corpus_is_not_read_as_a_source(corpus):
    docs, index = corpus
    shutil.copytree(index, docs / "index")
    report = build([docs], index, root=docs)
    assert report.unchanged
    assert any(p.name == "index" and "index folder" in reason for p, reason in report.skipped)


def test_manifest_lists_each_source_with_sha_sizes_and_counts(built_corpus):
    docs, folder = built_corpus
    manifest = json.loads((folder / "manifest.json").read_text())
    import hashlib

    for entry in manifest["sources"]:
        data = (docs / entry["source"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
        assert entry["encoding"] == "utf-8" and entry["offsets"] == "file"
    assert sum(e["sentences"] for e in manifest["sources"]) == manifest["counts"]["sentences"]
    assert sum(e["chunks"] for e in manifest["sources"]) == manifest["counts"]["chunks"]
