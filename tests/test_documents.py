import pytest

from qa.documents import SourceError, decode, find_sources, read_document


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
