import pytest

from qa.reading.documents import SourceError, decode, find_sources, read_document


def test_decode_utf8_keeps_text_and_newlines():
    text, enc = decode("Café\r\nline".encode("utf-8"))
    assert (text, enc) == ("Café\r\nline", "utf-8")


def test_decode_falls_back_to_windows_1252():
    text, enc = decode("naïve “quotes”".encode("cp1252"))
    assert text == "naïve “quotes”" and enc == "cp1252"


def test_decode_utf16_with_bom():
    text, _ = decode("hello world".encode("utf-16"))
    assert text == "hello world"


@pytest.mark.parametrize("data,reason", [(b"", "empty"), (b"\x00\x01\x02binary\x00", "binary"),
                                         (bytes(range(1, 32)) * 50, "binary")])
def test_decode_refuses(data, reason):
    with pytest.raises(SourceError, match=reason):
        decode(data)


def test_whitespace_only_file_is_refused(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("   \n\n\t ")
    with pytest.raises(SourceError, match="no text"):
        read_document(path, tmp_path)


def test_find_sources_walks_folders_and_reports_skips(tmp_path):
    (tmp_path / "a.txt").write_text("A.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("B.")
    (tmp_path / "sub" / "c.bin").write_bytes(b"\x00")
    found, skipped = find_sources([tmp_path])
    assert sorted(p.name for p in found) == ["a.txt", "b.md"]
    assert [p.name for p, _ in skipped] == ["c.bin"]


def test_find_sources_missing_path(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        find_sources([tmp_path / "nope.txt"])


def test_find_sources_survives_symlink_loop(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("X.")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    found, skipped = find_sources([tmp_path])
    assert [p.name for p in found] == ["x.txt"]
    assert any("loop" in reason for _, reason in skipped)


def test_document_records_sha_and_relative_source(tmp_path):
    import hashlib

    path = tmp_path / "doc.txt"
    path.write_bytes(b"Hello there.")
    doc = read_document(path, tmp_path)
    assert doc.source == "doc.txt"
    assert doc.sha256 == hashlib.sha256(b"Hello there.").hexdigest()


def test_nul_bytes_anywhere_mean_binary():
    with pytest.raises(SourceError, match="binary"):
        decode(b"plain text. " * 2000 + b"\x00\x01")


def test_undecodable_bytes_are_refused_with_the_encodings_tried():
    with pytest.raises(SourceError, match="UTF-8, UTF-16 or Windows-1252"):
        decode(b"caf\xe9 \x81\x8d\x90")


def test_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 300)
    with pytest.raises(SourceError, match=r"too large \(1.5 KB; the limit is 1.0 KB, raise it with --max-bytes\)"):
        read_document(path, tmp_path, max_bytes=1000)
    assert read_document(path, tmp_path, max_bytes=None).size == 1500


def test_symlink_loop_and_broken_link_are_named(tmp_path):
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "good.txt").write_text("A fact.", encoding="utf-8")
    # named beside a good file, a loop is skipped with its reason (issue 20: it aborted the whole build)
    found, skipped = find_sources([tmp_path / "loop.txt", tmp_path / "good.txt"])
    assert found == [(tmp_path / "good.txt").resolve()] and skipped == [(tmp_path / "loop.txt", "symlink loop")]
    with pytest.raises(SourceError, match="no such file or folder"):
        find_sources([tmp_path / "typo.txt"])
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").symlink_to(tmp_path / "docs" / "b.txt")
    (tmp_path / "docs" / "b.txt").symlink_to(tmp_path / "docs" / "a.txt")
    (tmp_path / "docs" / "gone.md").symlink_to(tmp_path / "nowhere.md")
    found, skipped = find_sources([tmp_path / "docs"])
    assert found == []
    assert {p.name: reason for p, reason in skipped} == {"a.txt": "symlink loop", "b.txt": "symlink loop",
                                                        "gone.md": "broken symlink"}


def test_index_folders_and_hidden_entries_are_not_sources(tmp_path):
    (tmp_path / "a.txt").write_text("A.")
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "manifest.json").write_text("{}")
    (tmp_path / "index" / "chunks.faiss").write_bytes(b"")
    (tmp_path / "index" / "sources").mkdir()
    (tmp_path / "index" / "sources" / "abc.txt").write_text("stored text")
    (tmp_path / ".index.build-1-abc").mkdir()
    (tmp_path / ".index.build-1-abc" / "x.txt").write_text("staging")
    found, skipped = find_sources([tmp_path])
    assert [p.name for p in found] == ["a.txt"]
    assert [(p.name, reason) for p, reason in skipped] == [("index", "an index folder, not a source")]


def test_html_offsets_point_into_the_extracted_text(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>T</title><script>var x = 'secret';</script></head><body>"
                    "<p>The bridge opened in 1780.</p><table><tr><td>Span</td><td>40 m</td></tr></table>"
                    "</body></html>", encoding="utf-8")
    doc = read_document(path, tmp_path)
    assert doc.offsets == "extracted-text" and "secret" not in doc.text
    assert "The bridge opened in 1780." in doc.text and "Span 40 m" in doc.text
    assert read_document(tmp_path.joinpath("page.html"), tmp_path).text_sha256 == doc.text_sha256
    plain = tmp_path / "plain.txt"
    plain.write_text("Plain.")
    assert read_document(plain, tmp_path).offsets == "file"


def test_html_without_visible_text_is_refused(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><style>p {}</style></head><body><script>x = 1</script></body></html>")
    with pytest.raises(SourceError, match="no visible text"):
        read_document(path, tmp_path)


def _random_bmp_units(n: int, seed: int = 1) -> list[int]:
    """Random UTF-16 code units outside the surrogate range, so that they always decode."""
    import random

    rng = random.Random(seed)
    units = (rng.randrange(0x10000) for _ in range(3 * n))
    return [u for u in units if not 0xD800 <= u < 0xE000][:n]


def _random_bytes(low: int, high: int, n: int, seed: int = 2) -> bytes:
    """Random bytes in [low, high) that all decode as Windows-1252 (its five undefined bytes left out)."""
    import random

    rng = random.Random(seed)
    return bytes(b for b in (rng.randrange(low, high) for _ in range(n)) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D))


@pytest.mark.parametrize("data", [
    b"\xff\xfe" + b"".join(u.to_bytes(2, "little") for u in _random_bmp_units(1000)),
    b"\xfe\xff" + b"".join(u.to_bytes(2, "big") for u in _random_bmp_units(1000)),
    b"\xff\xfe" + b"".join(u.to_bytes(2, "little") for u in _random_bmp_units(20)),
    _random_bytes(0x80, 0x100, 2000),            # high bytes only
    _random_bytes(0x20, 0x100, 2000),            # printable ASCII and high bytes
    bytes(b if b not in (0xD7, 0xF7) else 0x61 for b in _random_bytes(0xC0, 0x100, 2000)),   # only accented letters
    _random_bytes(0x01, 0x100, 2000),            # control bytes too
    b"".join(i.to_bytes(4, "little") for i in range(1000)),     # small integers: NUL bytes in a lane
], ids=["utf16-le-bom", "utf16-be-bom", "utf16-short", "high-bytes", "printable-and-high", "accented-letters",
        "with-controls", "int32"])
def test_random_bytes_are_not_text_in_any_encoding(data):
    with pytest.raises(SourceError, match="binary file"):
        decode(data)


@pytest.mark.parametrize("text,encoding,recorded", [
    ("Le café « Chez Zoé » a ouvert l’été dernier à Genève ; ses crêpes coûtent 5 € — c’est raisonnable.\n",
     "cp1252", "cp1252"),
    ("Ça a été.", "cp1252", "cp1252"),
    ("Größe und Übermaß: die Straße führt über die Brücke nach Köln.\n" * 40, "cp1252", "cp1252"),
    ("The café “Le Naïf” opened in 1923 — its owner was Zoë Brontë.\n", "cp1252", "cp1252"),
    ("北京是中华人民共和国的首都，也是全国的政治和文化中心。😀\n" * 30, "utf-16", "utf-16"),
    ("hello world, été\n", "utf-16", "utf-16"),
    ("Plain English text with a café.\n" * 30, "utf-16-le", "utf-16-le"),   # no BOM: the zero lane tells
    ("Plain English text with a café.\n" * 30, "utf-16-be", "utf-16-be"),
    ("Café — “quotes”, 北京, 😀 and ½ ± 3 € ™.\n", "utf-8", "utf-8"),
])
def test_real_text_is_still_read_in_each_encoding(text, encoding, recorded):
    assert decode(text.encode(encoding)) == (text, recorded)


def test_decoder_checks_are_linear_and_cheap():
    import time

    data = ("Le café « Chez Zoé » ouvert l’été. " * 300_000).encode("cp1252")     # 10 MB
    started = time.perf_counter()
    assert decode(data)[1] == "cp1252"
    assert time.perf_counter() - started < 5


_NOT_REGULAR = """
import os, sys, threading
from pathlib import Path
from qa.reading.documents import SourceError, find_sources, read_document
folder = Path(sys.argv[1])
os.mkfifo(folder / "pipe.txt")
(folder / "zero.txt").symlink_to("/dev/zero")
(folder / "random.md").symlink_to("/dev/urandom")
for name in ("pipe.txt", "zero.txt", "random.md"):
    found, skipped = find_sources([folder / name])
    assert found == [] and skipped == [(folder / name, "not a regular file")], (found, skipped)
    try:
        read_document(folder / name, folder, max_bytes=1000)     # found in a listing, then read
    except SourceError as exc:
        assert str(exc) == "not a regular file", exc
    else:
        raise AssertionError(name)
print("ok")
"""


def test_fifos_and_devices_named_directly_are_skipped_unread(tmp_path):
    """A FIFO blocked the build forever; /dev/zero behind a .txt name grew it by 340 MB/s (its size reads 0)."""
    import resource
    import subprocess
    import sys

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    result = subprocess.run([sys.executable, "-c", _NOT_REGULAR, str(tmp_path)], capture_output=True, text=True,
                            timeout=60, preexec_fn=limit_memory)
    assert result.stdout.strip() == "ok", result.stderr


def test_a_file_is_never_read_past_the_limit(tmp_path, monkeypatch):
    """The size is checked before reading, and the read itself stops at max_bytes + 1 (for a file that grows)."""
    import os as os_module

    path = tmp_path / "growing.txt"
    path.write_bytes(b"word " * 300)
    real_fstat = os_module.fstat

    def stale_size(fd):              # the size as stat saw it before the file grew
        st = real_fstat(fd)
        return os_module.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 10,
                                      st.st_atime, st.st_mtime, st.st_ctime))
    monkeypatch.setattr(os_module, "fstat", stale_size)
    with pytest.raises(SourceError, match=r"too large \(over 1.0 KB; the limit is 1.0 KB"):
        read_document(path, tmp_path, max_bytes=1000)
