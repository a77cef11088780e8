"""ONNX Runtime backend: the export cache is atomic and keyed by the weights, the vectors and the reader's
readings agree with torch, and QA_BACKEND switches both models."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from qa.indexing import onnx_backend
from qa.indexing.onnx_backend import BackendError, backend, ensure_file, model_hash

SRC = Path(__file__).resolve().parents[2] / "src"


def _env(**extra) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _wait_for(predicate, timeout: float, proc=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


# --- without a model ----------------------------------------------------------------------------------

def test_backend_setting(monkeypatch):
    monkeypatch.delenv("QA_BACKEND", raising=False)
    assert backend() == "onnx"          # the default: same answers, faster (eval/report.md, eval/bench.md)
    monkeypatch.setenv("QA_BACKEND", " TORCH ")
    assert backend() == "torch"
    assert backend("onnx") == "onnx"
    monkeypatch.setenv("QA_BACKEND", "tensorflow")
    with pytest.raises(BackendError, match="QA_BACKEND"):
        backend()


def test_cache_folder_is_keyed_by_the_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_ONNX_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError):
        model_hash(model)
    (model / "model.safetensors").write_bytes(b"weights one")
    first = onnx_backend.cache_dir(model)
    assert first.parent == tmp_path / "cache" and len(first.name) == onnx_backend.HASH_PREFIX
    (model / "tokenizer.json").write_text("not part of the graph")
    assert onnx_backend.cache_dir(model) == first
    (model / "model.safetensors").write_bytes(b"other weights")
    assert onnx_backend.cache_dir(model) != first


def test_a_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "m.onnx"

    def fail(path):
        path.write_bytes(b"half")
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError):
        ensure_file(target, fail)
    assert not target.exists() and not list(tmp_path.glob("*.tmp"))
    assert ensure_file(target, lambda p: p.write_bytes(b"whole")).read_bytes() == b"whole"
    assert ensure_file(target, fail).read_bytes() == b"whole"      # made once, then taken as it is


def test_a_writer_killed_mid_write_leaves_no_target_and_the_next_one_cleans_up(tmp_path):
    target = tmp_path / "m.onnx"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from qa.indexing.onnx_backend import ensure_file
        def slow(path):
            path.write_bytes(b"half of it")
            time.sleep(60)
        ensure_file(Path({str(target)!r}), slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=_env())
    try:
        assert _wait_for(lambda: any(p.stat().st_size for p in tmp_path.glob(".m.onnx.*.tmp")), 30, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not target.exists() and list(tmp_path.glob(".m.onnx.*.tmp"))
    assert ensure_file(target, lambda p: p.write_bytes(b"whole")).read_bytes() == b"whole"
    assert not list(tmp_path.glob("*.tmp"))


# --- with the real models -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    """A fresh export cache for this module: the first use exports."""
    from qa.indexing import embedder
    from qa.answering import reader

    def forget_onnx_models():
        """ONNX models loaded earlier in this process came from another cache folder."""
        for key in [k for k in embedder._models if k[0] == "onnx"]:
            del embedder._models[key]
        for key in [k for k in reader._shared if k[0] == "onnx"]:
            del reader._shared[key]

    folder = tmp_path_factory.mktemp("qa-onnx")
    old = os.environ.get("QA_ONNX_CACHE")
    os.environ["QA_ONNX_CACHE"] = str(folder)
    forget_onnx_models()
    yield folder
    forget_onnx_models()
    if old is None:
        os.environ.pop("QA_ONNX_CACHE", None)
    else:
        os.environ["QA_ONNX_CACHE"] = old


@pytest.fixture(scope="module")
def texts(article_text):
    from qa.evaluation.datasets import load_dataset
    from qa.reading.sentences import split_sentences

    root = Path(__file__).resolve().parents[2]
    questions = [r.question for r in load_dataset(root / "eval" / "article-test.jsonl")][:20]
    sentences = [article_text[a:b] for a, b in split_sentences(article_text)][:40]
    return questions + sentences + ["", "   padded   ", "word " * 400]


@pytest.mark.slow
def test_onnx_vectors_agree_with_torch(onnx_cache, texts):
    from qa.indexing import embedder

    torch_model, onnx_model = embedder.get_model("torch"), embedder.get_model("onnx")
    assert isinstance(onnx_model, onnx_backend.OnnxEmbedder) and not onnx_model.int8
    assert (onnx_cache / onnx_backend.model_hash(embedder.model_path())[:16] / "embedder.onnx").is_file()
    a = torch_model.encode(texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True)
    b = onnx_model.encode(texts, batch_size=16)
    assert b.shape == a.shape and b.dtype == np.float32
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(1).min() >= 0.999
    for q in texts[:5]:         # one question: the one-thread query session
        assert float(torch_model.encode(q, normalize_embeddings=True) @ onnx_model.encode(q)) >= 0.999
    assert onnx_model.session("query").get_session_options().intra_op_num_threads == 1
    assert onnx_model.session("batch").get_session_options().intra_op_num_threads == onnx_backend.cpu_count()
    assert onnx_model.max_seq_length == torch_model.max_seq_length == 256
    assert onnx_model.get_embedding_dimension() == torch_model.get_embedding_dimension() == 384


@pytest.mark.slow
def test_embedder_functions_follow_the_backend_setting(onnx_cache, monkeypatch):
    from qa.indexing import embedder

    question = "When was the mutual defence agreement signed?"
    monkeypatch.setenv("QA_BACKEND", "torch")
    t_vec, t_pieces, t_window = embedder.embed_query(question), embedder.count_wordpieces([question]), \
        embedder.window_tokens()
    assert type(embedder.get_model()).__name__ == "SentenceTransformer"
    monkeypatch.setenv("QA_BACKEND", "onnx")
    assert isinstance(embedder.get_model(), onnx_backend.OnnxEmbedder)
    o_vec = embedder.embed_query(question)
    assert o_vec.shape == t_vec.shape == (384,) and o_vec.dtype == np.float32 and float(t_vec @ o_vec) >= 0.999
    assert embedder.count_wordpieces([question]) == t_pieces and embedder.window_tokens() == t_window
    assert embedder.embed_texts([]).shape == (0, 384)
    assert embedder.embed_texts([question]).shape == (1, 384)


@pytest.mark.slow
def test_a_killed_export_is_harmless(tmp_path, monkeypatch):
    """kill -9 in the middle of the real export: no model file is left, and the next call exports cleanly."""
    from qa.indexing import embedder

    cache = tmp_path / "cache"
    folder = cache / onnx_backend.model_hash(embedder.model_path())[:16]
    script = "from qa.indexing import embedder, onnx_backend; onnx_backend.export_embedder(embedder.model_path())"
    proc = subprocess.Popen([sys.executable, "-c", script], env=_env(QA_ONNX_CACHE=str(cache)))
    try:
        started = _wait_for(lambda: list(folder.glob(".embedder.onnx.*.tmp")), 120, proc)
        time.sleep(0.5)         # inside torch.onnx.export
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert started and proc.returncode == -signal.SIGKILL
    assert not (folder / "embedder.onnx").exists()

    monkeypatch.setenv("QA_ONNX_CACHE", str(cache))
    path = onnx_backend.export_embedder(embedder.model_path())
    assert path == folder / "embedder.onnx" and not list(folder.glob("*.tmp"))
    session = onnx_backend.session(path, 1)
    enc = embedder.get_model("torch").tokenizer(["A sentence."], return_tensors="np")
    vec = session.run(None, {k: v.astype(np.int64) for k, v in enc.items()})[0][0]
    assert float(vec @ embedder.get_model("torch").encode("A sentence.", normalize_embeddings=True)) >= 0.999


@pytest.fixture(scope="module")
def stand_in_reader(tmp_path_factory):
    """A span reader of the trained one's shape: MiniLM with a fresh (seeded) question-answering head."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa.indexing import embedder

    folder = tmp_path_factory.mktemp("reader")
    torch.manual_seed(0)
    AutoModelForQuestionAnswering.from_pretrained(str(embedder.model_path())).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(embedder.model_path())).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_reader_readings_agree(onnx_cache, stand_in_reader, article_text):
    from qa.answering.reader import Reader

    torch_reader = Reader(stand_in_reader, backend="torch")
    onnx_reader = Reader(stand_in_reader, backend="onnx")
    windows = [article_text[i:i + 700] for i in range(0, 4200, 700)] + ["Short.", "word " * 400]
    for question in ("When was the pact signed?", "Who visited Washington?", "How much aid was given?"):
        expected, got = torch_reader.read(question, windows), onnx_reader.read(question, windows)
        assert len(got) == len(expected) == len(windows)
        for e, g in zip(expected, got):
            assert (g.start, g.end) == (e.start, e.end)
            assert g.span_score == pytest.approx(e.span_score, abs=1e-3)
            assert g.null_score == pytest.approx(e.null_score, abs=1e-3)
    assert onnx_reader.read("Anything?", []) == []
    assert (onnx_cache / onnx_backend.model_hash(stand_in_reader)[:16] / "reader.onnx").is_file()


@pytest.mark.slow
def test_reader_follows_the_backend_setting(onnx_cache, stand_in_reader, monkeypatch):
    from qa.answering import reader as reader_module

    monkeypatch.setattr(reader_module, "READER_DIR", stand_in_reader)
    monkeypatch.setattr(reader_module, "_shared", {})
    monkeypatch.setattr(reader_module.Reader.__init__, "__defaults__", (stand_in_reader, None, None))
    monkeypatch.setenv("QA_BACKEND", "onnx")
    onnx_reader = reader_module.get_reader().warm_up()
    assert isinstance(onnx_reader._model, onnx_backend.OnnxReader)
    monkeypatch.setenv("QA_BACKEND", "torch")
    torch_reader = reader_module.get_reader().warm_up()
    assert torch_reader is not onnx_reader and not isinstance(torch_reader._model, onnx_backend.OnnxReader)
    monkeypatch.setenv("QA_BACKEND", "onnx")
    assert reader_module.get_reader() is onnx_reader


@pytest.mark.slow
def test_ask_gives_the_same_answers_on_either_backend(onnx_cache, article_index, monkeypatch):
    from qa.answering.ask import ask

    questions = ["When was the mutual defence agreement signed?", "Who met Blinken?",
                 "How much military aid did the United States give?", "What is the population of Mars?"]
    answers = {}
    for name in ("torch", "onnx"):
        monkeypatch.setenv("QA_BACKEND", name)
        answers[name] = [ask(article_index, q) for q in questions]
    for t, o in zip(answers["torch"], answers["onnx"]):
        assert (o.answer, o.abstained, [c.start for c in o.citations]) == \
               (t.answer, t.abstained, [c.start for c in t.citations])
        assert o.confidence == pytest.approx(t.confidence, abs=1e-3)


@pytest.mark.slow
def test_the_trained_reader_reads_the_same_through_onnx(onnx_cache, article_text):
    from qa.answering.reader import READER_DIR, Reader

    if not (READER_DIR / "config.json").exists():
        pytest.skip("no trained reader in models/reader (make train)")
    torch_reader, onnx_reader = Reader(READER_DIR, backend="torch"), Reader(READER_DIR, backend="onnx")
    windows = [article_text[i:i + 600] for i in range(0, len(article_text), 600)]
    for question in ("When was the mutual defence agreement signed?", "Who met Blinken?",
                     "What is the population of Mars?"):
        for e, g in zip(torch_reader.read(question, windows), onnx_reader.read(question, windows)):
            assert (g.start, g.end) == (e.start, e.end)
            assert g.span_score == pytest.approx(e.span_score, abs=1e-3)
            assert g.null_score == pytest.approx(e.null_score, abs=1e-3)


@pytest.mark.slow
def test_an_unwritable_export_cache_falls_back_to_torch_unless_onnx_was_asked_for(tmp_path, monkeypatch, capsys):
    """ONNX as the default must not break a machine whose cache cannot be written: torch, with one line."""
    from qa.indexing import embedder
    from qa.answering import reader as reader_module

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QA_ONNX_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(onnx_backend, "DEFAULT_BACKEND", "onnx")
    monkeypatch.delenv("QA_BACKEND", raising=False)
    monkeypatch.setattr(embedder, "_models", {})
    model = embedder.get_model()
    assert not isinstance(model, onnx_backend.OnnxEmbedder) and model.encode("x").shape == (384,)
    reader = reader_module.Reader(backend=None).warm_up()
    assert reader.backend == "torch" and len(reader.read("Who?", ["Ann came."])) == 1
    notes = [line for line in capsys.readouterr().err.splitlines() if "using torch" in line]
    assert len(notes) == 2 and "QA_ONNX_CACHE" in notes[0]

    monkeypatch.setenv("QA_BACKEND", "onnx")        # asked for by name: a clear error instead
    monkeypatch.setattr(embedder, "_models", {})
    with pytest.raises(BackendError, match="QA_ONNX_CACHE"):
        embedder.get_model()
