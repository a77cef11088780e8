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


def test_nul_bytes_anywhere_mean_binary():
    with pytest.raises(SourceError, match="binary"):
        decode(b"plain text. " * 2000 + b"\x00\x01")


def test_undecodable_bytes_are_refused_with_the_encodings_tried():
    with pytest.raises(SourceError, match="UTF-8, UTF-16 or Windows-1252"):
        decode(b"caf\xe9 \x81\x8d\x90")


def test_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 300)
    with pytest.raises(SourceError, match=r"too large \(0.0 MB; the limit is 0.0 MB, raise it with --max-bytes\)"):
        read_document(path, tmp_path, max_bytes=1000)
    assert read_document(path, tmp_path, max_bytes=None).size == 1500


def test_symlink_loop_and_broken_link_are_named(tmp_path):
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    with pytest.raises(SourceError, match="symlink loop"):
        find_sources([tmp_path / "loop.txt"])
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
