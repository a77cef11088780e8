"""The benchmark's corpus assembly, and one quick run (no timed assertions)."""
import gzip
import json

import pytest

from qa.bench.speed import assemble_corpus


def test_assemble_corpus_copies_distinct_utf8_texts_up_to_the_target(tmp_path):
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "a.txt").write_text("alpha " * 100, encoding="utf-8")
    (sources / "b.txt").write_text("alpha " * 100, encoding="utf-8")        # duplicate content
    (sources / "c.bin").write_bytes(b"\x00\x01" * 300)
    (sources / "d.txt").write_bytes("caf\xe9 ".encode("latin-1") * 200)      # not UTF-8
    (sources / "e.txt").write_text("beta " * 100, encoding="utf-8")
    (sources / "f.txt").write_text("gamma " * 100, encoding="utf-8")
    info = assemble_corpus(tmp_path / "out", 1000, candidates=sorted(sources.iterdir()))
    assert info["files"] == 2 and info["bytes"] == 1100          # a and e; b repeats a; c, d are not text
    assert sorted(p.name[6:] for p in (tmp_path / "out").iterdir()) == ["src-a.txt", "src-e.txt"]


def test_assemble_corpus_decompresses_gzip_texts_and_skips_broken_ones(tmp_path):
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "changelog.gz").write_bytes(gzip.compress(("delta " * 100).encode("utf-8")))
    (sources / "broken.gz").write_bytes(b"\x1f\x8b not really gzip" * 30)
    info = assemble_corpus(tmp_path / "out", 10_000, candidates=sorted(sources.iterdir()))
    assert info["files"] == 1 and info["bytes"] == 600
    (copied,) = (tmp_path / "out").iterdir()
    assert copied.name.endswith("src-changelog.txt") and copied.read_text(encoding="utf-8") == "delta " * 100


@pytest.mark.slow
def test_quick_bench_writes_its_report(tmp_path):
    from qa.bench.speed import run_bench

    assert run_bench(out=tmp_path, quick=True) == 0
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert [c["name"] for c in data["corpora"]] == ["article"]
    article = data["corpora"][0]
    assert article["ask_median_ms"] > 0 and article["embed_median_ms"] > 0 and len(article["build_s"]) == 3
    assert data["peak_rss_mb"] > 0
    disk = article["index_bytes"]
    assert disk["vectors"] > 0 and disk["records"] > 0 and disk["keyword"] > 0
    assert disk["total"] == disk["vectors"] + disk["records"] + disk["keyword"] + disk["other"]
    assert article["faiss"]["chunks"] == "flat" and article["index_load_s"] > 0
    report = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "ask / bare embedding" in report and "index on disk" in report
    for key in ("model_load", "onnx_model_load", "onnx_cold_export"):   # each cold start answers, memory measured
        assert data[key]["answers_s"] > 0 and data[key]["rss_mb"] > 0, data[key]
    # with the exports in the cache (as `make setup` leaves it) a cold start never imports torch; with an
    # empty cache it must export both models through torch first, and the report says which case is which
    assert data["onnx_model_load"]["torch_imported"] == 0.0
    assert data["onnx_cold_export"]["torch_imported"] == 1.0
    assert set(data["onnx_prepare"]) == {"embedder", "reader"}
    assert "onnx, exports cached" in report and "onnx, export included" in report
    assert any(t["label"].startswith("ONNX median ask / torch's") for t in data["targets"])
