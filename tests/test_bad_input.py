"""Bad input to `qa build` and `qa ask`: one clear line on stderr, a non-zero exit, no traceback, nothing lost."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.answering.ask import ask
from qa.indexing.build import build
from qa.config import DEFAULT_SOURCE, PROJECT_ROOT
from qa.indexing.store import load_index
from reading.pdf_samples import bomb_pdf, empty_pages_pdf, image_pdf

pytestmark = pytest.mark.slow      # the index copied here is built with the real model (once per session)


def run_qa(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=timeout)


def fingerprint(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_refused(result, message):
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: "), result.stderr
    assert message in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def index(article_index, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(article_index.folder, folder)
    return folder


def _symlink_loop(folder: Path) -> Path:
    loop = folder / "loop.txt"
    loop.symlink_to(loop)
    return loop


def _folder_of_loops(folder: Path) -> Path:
    docs = folder / "docs"
    (docs / "inner").mkdir(parents=True)
    (docs / "inner" / "up").symlink_to(docs)            # a folder loop
    (docs / "a.txt").symlink_to(docs / "b.txt")         # a file loop
    (docs / "b.txt").symlink_to(docs / "a.txt")
    (docs / "gone.md").symlink_to(folder / "nowhere.md")
    return docs


def _folder_without_text(folder: Path) -> Path:
    docs = folder / "docs"
    docs.mkdir()
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "notes.md").write_text(" \n\t\n", encoding="utf-8")
    (docs / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (docs / "logo.svg").write_text("<svg/>", encoding="utf-8")
    return docs


def _file(name: str, data: bytes):
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name
    return make


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.txt")
    return folder / "pipe.txt"


def _device_link(folder: Path) -> Path:
    (folder / "zero.md").symlink_to("/dev/zero")
    return folder / "zero.md"


BAD_SOURCES = {
    "empty file": (_file("empty.txt", b""), "empty.txt: empty file"),
    "whitespace-only file": (_file("blank.txt", b"  \n\n\t \r\n"), "blank.txt: no text (only whitespace)"),
    "binary file named .txt": (_file("data.txt", b"PK\x03\x04\x14\x00\x00\x00text\x00\x01"),
                               "data.txt: binary file (contains NUL bytes)"),
    "control characters": (_file("ctrl.txt", bytes(range(1, 32)) * 40), "ctrl.txt: binary file"),
    "unsupported type": (_file("photo.png", b"\x89PNG\r\n\x1a\n"), "photo.png: unsupported file type '.png'"),
    "undecodable bytes": (_file("odd.txt", b"caf\xe9 \x81\x8d\x90 au lait. " * 20),
                          "odd.txt: not valid text in UTF-8, UTF-16 or Windows-1252"),
    "HTML without visible text": (_file("page.html", b"<html><head><style>p{}</style></head><body><script>x=1"
                                                     b"</script></body></html>"),
                                  "page.html: no visible text (only markup, scripts or styles)"),
    "FIFO named directly": (_fifo, "pipe.txt: not a regular file"),               # blocked forever
    "symlink to /dev/zero named directly": (_device_link, "zero.md: not a regular file"),   # grew 340 MB/s
    "missing path": (lambda folder: folder / "missing.txt", "no such file or folder"),
    "symlink loop": (_symlink_loop, "loop.txt: symlink loop"),
    "folder of loops and broken links": (_folder_of_loops, "a.txt: symlink loop"),
    "folder with no readable text": (_folder_without_text, "no readable text in"),
}



def _encrypted_pdf(folder: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PROJECT_ROOT / "data" / "formats" / "pak-us-diplomatic-relations.pdf")
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(folder / "locked.pdf")
    return folder / "locked.pdf"


def _docx_bomb(folder: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(folder / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as fh:
            for _ in range(80):
                fh.write(b" " * (1 << 20))
    return folder / "bomb.docx"


def _made(name: str, make):
    """A file whose bytes are made only when the test runs (some take a moment: 100,000 pages)."""
    return lambda folder: _file(name, make())(folder)


def _cut(name: str, fraction: float = 0.5):
    whole = (PROJECT_ROOT / "data" / "formats" / name.replace("cut", "pak-us-diplomatic-relations")).read_bytes()
    return lambda: whole[:int(len(whole) * fraction)]


# PDF and Word files (issue 19); each bound is stated in qa/reading/pdf.py and qa/reading/docx.py
BAD_SOURCES.update({
    "password-protected PDF": (_encrypted_pdf, "locked.pdf: password-protected PDF"),
    "scanned PDF": (_made("scan.pdf", lambda: image_pdf(2)), "scan.pdf: no text layer: this PDF would need OCR"),
    "truncated PDF": (_made("cut.pdf", _cut("cut.pdf")), "cut.pdf: truncated or corrupt PDF"),
    "PDF of 100,000 empty pages": (_made("blank.pdf", lambda: empty_pages_pdf(100_000)),
                                   "blank.pdf: too many pages (100,000; the limit is 5,000)"),
    "decompression bomb in a PDF stream": (_made("bomb.pdf", lambda: bomb_pdf(1 << 30)),
                                           "bomb.pdf: a compressed stream in this PDF expands to over 256 MB"),
    "HTML named .pdf": (_file("page.pdf", b"<!DOCTYPE html><html><body>Hi</body></html>"),
                        "page.pdf: not a PDF (it is an HTML page)"),
    "binary named .pdf": (_file("noise.pdf", bytes(range(256)) * 64), "noise.pdf: not a PDF (it holds binary data)"),
    "decompression bomb in a DOCX zip": (_docx_bomb, "bomb.docx: this .docx expands to over 64 MB of XML"),
    "truncated DOCX": (_made("cut.docx", _cut("cut.docx", 0.4)), "cut.docx: corrupt or truncated .docx"),
    "old .doc named .docx": (_file("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
                             "old.docx: an old Word .doc file"),
})


@pytest.mark.parametrize("case", BAD_SOURCES)
def test_bad_source_is_refused_and_the_index_kept(case, index, tmp_path):
    make, message = BAD_SOURCES[case]
    source = make(tmp_path)
    before = fingerprint(index)
    line = assert_refused(run_qa("build", source, "--index", index), message)
    assert fingerprint(index) == before
    assert not list(tmp_path.glob(".index.build-*"))
    if case == "folder with no readable text":   # each file and why, still on one line
        assert "empty.txt: empty file" in line and "notes.md: no text (only whitespace)" in line
        assert "unsupported file type" in line and "and 1 more" in line


def test_fifty_megabyte_single_line_file_is_refused_at_once(index, tmp_path):
    big = tmp_path / "big.txt"
    with big.open("w") as fh:
        for _ in range(10):
            fh.write("word " * 1_000_000)       # 50 MB, no newline, no full stop
    before = fingerprint(index)
    started = time.perf_counter()
    line = assert_refused(run_qa("build", big, "--index", index), "too large (50.0 MB; the limit is 20.0 MB")
    assert "--max-bytes" in line
    assert time.perf_counter() - started < 30, "refused without reading the file"
    assert fingerprint(index) == before
    # beside readable files it is only skipped, with a warning saying why
    small = tmp_path / "small.txt"
    small.write_text("The harbour was dredged in 1907.\n", encoding="utf-8")
    result = run_qa("build", big, small, "--index", tmp_path / "other")
    assert result.returncode == 0, result.stderr
    assert f"qa: warning: skipped {big}: too large" in result.stderr
    assert [s["source"] for s in load_index(tmp_path / "other").manifest["sources"]] == [str(small)]


def test_max_bytes_is_a_size(tmp_path):
    result = run_qa("build", DEFAULT_SOURCE, "--max-bytes", "lots", "--index", tmp_path / "ix")
    assert result.returncode == 2 and "not a size" in result.stderr and "Traceback" not in result.stderr
    small = tmp_path / "small.txt"
    small.write_text("The harbour was dredged in 1907.\n", encoding="utf-8")
    assert_refused(run_qa("build", small, "--max-bytes", "10", "--index", tmp_path / "ix"),
                   "too large (33 bytes; the limit is 10 bytes")


def test_windows_1252_and_utf16_files_are_read(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    latin = "The café “Le Naïf” opened in 1923 — its owner was Zoë Brontë.\n"
    (docs / "latin.txt").write_bytes(latin.encode("cp1252"))
    (docs / "wide.txt").write_bytes("The ferry to Skye first sailed in 1851.\n".encode("utf-16"))
    report = build([docs], tmp_path / "index", root=docs)
    index = load_index(report.index)
    encodings = {s["source"]: s["encoding"] for s in index.manifest["sources"]}
    assert encodings == {"latin.txt": "cp1252", "wide.txt": "utf-16"}
    [sentence] = [s for s in index.sentences if s.source == "latin.txt"]
    assert sentence.text == latin.strip()
    assert index.source_text("latin.txt", root=docs)[sentence.start:sentence.end] == sentence.text
    [sentence] = [s for s in index.sentences if s.source == "wide.txt"]
    assert index.source_text("wide.txt", root=docs)[sentence.start:sentence.end] == sentence.text


def _truncate(name, keep):
    def corrupt(folder):
        path = folder / name
        path.write_bytes(path.read_bytes()[:keep])
    return corrupt


def _edit_manifest(**changes):
    def corrupt(folder):
        path = folder / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return corrupt


def _drop_manifest_key(key):
    def corrupt(folder):
        path = folder / "manifest.json"
        manifest = json.loads(path.read_text())
        del manifest[key]
        path.write_text(json.dumps(manifest))
    return corrupt


def _wider_vectors(folder):
    import faiss
    import numpy as np

    ntotal = faiss.read_index(str(folder / "chunks.faiss")).ntotal
    wide = faiss.IndexFlatIP(768)
    wide.add(np.ones((ntotal, 768), dtype=np.float32))
    faiss.write_index(wide, str(folder / "chunks.faiss"))


def _drop_a_chunk(folder):
    path = folder / "chunks.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


def _chunk_past_the_sentences(folder):
    path = folder / "chunks.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[-1]["last"] = 10_000
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


CORRUPT_INDEXES = {
    "truncated FAISS file": (_truncate("chunks.faiss", 100), "is corrupt or incomplete"),
    "empty FAISS file": (_truncate("sentences.faiss", 0), "is corrupt or incomplete"),
    "invalid manifest": (lambda f: (f / "manifest.json").write_text("{not json"), "is corrupt"),
    "manifest not an object": (lambda f: (f / "manifest.json").write_text("[1, 2]"), "is incomplete"),
    "manifest without build_id": (_drop_manifest_key("build_id"), "is incomplete"),
    "no manifest": (lambda f: (f / "manifest.json").unlink(), "is not an index (no manifest.json)"),
    "truncated sentences": (_truncate("sentences.jsonl", 5000), "is corrupt or incomplete"),
    "missing keyword index": (lambda f: shutil.rmtree(f / "keyword_chunks"), "is corrupt or incomplete"),
    "counts differ": (_drop_a_chunk, "is inconsistent"),
    "other model": (_edit_manifest(model="sentence-transformers/all-mpnet-base-v2"),
                    "index was built with model='sentence-transformers/all-mpnet-base-v2'"),
    "other dimension in manifest": (_edit_manifest(dims=768), "index was built with dims=768"),
    "other dimension in FAISS file": (_wider_vectors, "holds 768-dim vectors"),
    "other format": (_edit_manifest(format=2), "index was built with format=2"),
    "sources not a list": (_edit_manifest(sources="oops"), "index manifest is malformed (sources is not a list"),
    "chunk past the sentences": (_chunk_past_the_sentences, "points at sentences that do not exist"),
}


@pytest.mark.parametrize("case", CORRUPT_INDEXES)
def test_asking_a_corrupt_or_foreign_index_fails_clearly(case, index):
    corrupt, message = CORRUPT_INDEXES[case]
    corrupt(index)
    line = assert_refused(run_qa("ask", "--index", index, "When was the agreement signed?"), message)
    assert "qa build" in line, "says what to do"


@pytest.mark.parametrize("case", ["truncated FAISS file", "invalid manifest", "other model"])
def test_build_replaces_a_corrupt_or_foreign_index_even_when_sources_are_unchanged(case, index):
    CORRUPT_INDEXES[case][0](index)
    report = build([DEFAULT_SOURCE], index)
    assert not report.unchanged
    assert load_index(index).build_id == report.manifest["build_id"]


def test_index_path_under_a_file_or_an_unwritable_system_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    assert_refused(run_qa("build", DEFAULT_SOURCE, "--index", tmp_path / "notes.txt" / "index"),
                   f"{tmp_path / 'notes.txt'} is a file, not a folder")
    assert_refused(run_qa("build", DEFAULT_SOURCE, "--index", "/sys/qa-index"), "cannot write in /sys")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_index_path_that_is_not_an_index_is_never_replaced(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.md").write_text("years of work", encoding="utf-8")
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    assert_refused(run_qa("build", DEFAULT_SOURCE, "--index", folder),
                   f"{folder} is not an index folder (it holds 'thesis.md'); choose another --index")
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "thesis.md"]
    (tmp_path / "file.txt").write_text("keep me", encoding="utf-8")
    assert_refused(run_qa("build", DEFAULT_SOURCE, "--index", tmp_path / "file.txt"),
                   "exists and is not a folder")
    assert (tmp_path / "file.txt").read_text() == "keep me"


class ReadOnly:
    """Make a folder unwritable even for root: `chattr +i` (as root) or chmod (otherwise)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self):
        if os.geteuid() == 0:
            result = subprocess.run(["chattr", "+i", str(self.folder)], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"chattr +i is not available here: {result.stderr.strip()}")
        else:
            self.folder.chmod(0o555)
        return self

    def __exit__(self, *exc):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(self.folder)], check=True)
        else:
            self.folder.chmod(0o755)


@pytest.mark.parametrize("lock_exists", [False, True], ids=["fails-at-the-lock", "fails-at-the-staging-folder"])
def test_no_write_permission_beside_the_index_keeps_it(index, lock_exists):
    if lock_exists:   # then the build gets as far as embedding and fails creating its staging folder
        index.with_name(f".{index.name}.lock").touch()
    before = fingerprint(index)
    old = load_index(index).build_id
    with ReadOnly(index.parent):
        result = run_qa("build", "--force", DEFAULT_SOURCE, "--index", index, timeout=300)
        after = fingerprint(index)
    message = f"cannot write the index to {index}: Operation not permitted; the previous index is unchanged" \
        if lock_exists else f"cannot write in {index.parent}"
    if os.geteuid() != 0:
        message = message.replace("Operation not permitted", "Permission denied")
    assert_refused(result, message)
    assert after == before and load_index(index).build_id == old
    answer = ask(load_index(index), "When did Pakistan sign the Mutual Defense Assistance Agreement?")
    assert "May 1954" in answer.answer
