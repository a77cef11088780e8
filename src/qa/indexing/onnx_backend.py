"""ONNX Runtime inference for the embedder and the span reader, behind their usual interfaces.

Which backend runs is one setting for both models: ``QA_BACKEND=onnx`` (the default) or ``torch``. ONNX
Runtime gives the same answers (cosine to torch's vectors >= 0.9999996; `qa eval` compares the two on every
split), embeds a question in half the time, starts a fresh process in a third of the time and with less
memory because it never imports torch (eval/bench.md). If the export cache cannot be written, the default
falls back to torch with one line on stderr (`load`).
``QA_ONNX_INT8=embedder``, ``reader`` or ``embedder,reader`` (``1``: both) makes those models use a
dynamically quantised (int8) copy: about twice as fast and a quarter of the size, but off because it is
not lossless. The embedder's cosine to fp32 is 0.984 at worst (the top-ranked sentence changed for 4 of
the 75 article-test questions), and its activations are quantised per batch, so a text's vector depends
on the texts batched with it; the reader's best span changes in about one window in five (`qa eval`
compares it with fp32 in the same run: the configuration ``hybrid-onnx-int8``).

The ONNX graphs are exported from the packaged models themselves (never downloaded) the first time
they are needed, into ``$QA_ONNX_CACHE`` (default ``~/.cache/qa-onnx``), one folder per model keyed by
a SHA-256 of the model's weight and configuration files, so new weights get a new export. An export is
written to a temporary file in that folder and moved into place with ``os.replace`` under a file lock:
a killed export leaves at most a temporary file, which the next export removes.

Threads: a question is one short sequence, where extra threads cost more to wake than they save, so the
embedder's query session runs one intra-op thread; its build-time batches use every core the process may
use. The reader reads three windows (about 400 word pieces) per question, enough work to split: it uses
every core too (quiet machine, 2 cores: 64 ms a question against 114 ms with one thread and 105 ms on
torch; under heavy load one thread was faster, 105 against 120 ms).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

BACKEND_ENV = "QA_BACKEND"
CACHE_ENV = "QA_ONNX_CACHE"
INT8_ENV = "QA_ONNX_INT8"
BACKENDS = ("torch", "onnx")
DEFAULT_BACKEND = "onnx"
OPSET = 17
EXPORT_VERSION = "1"        # bump when the exported graph changes for the same weights
HASH_PREFIX = 16            # hex digits of the SHA-256 naming a cache folder
EMBEDDER_FILE = "embedder.onnx"
EMBEDDER_INT8_FILE = "embedder-int8-per-channel.onnx"
READER_FILE = "reader.onnx"
READER_INT8_FILE = "reader-int8-per-channel.onnx"
_MODEL_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
_WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin")

_hashes: dict[tuple, str] = {}
_lock = threading.Lock()


class BackendError(ValueError):
    """An unknown backend name in QA_BACKEND."""


def backend(name: str | None = None) -> str:
    """The backend to use: `name` if given, else $QA_BACKEND, else the default."""
    value = (name or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND).strip().lower()
    if value not in BACKENDS:
        raise BackendError(f"{BACKEND_ENV}={value!r}: expected one of {', '.join(BACKENDS)}")
    return value


def load(what: str, load_onnx, load_torch):
    """`load_onnx()`, unless the ONNX export cannot be written or read (a read-only home, a full disk).

    Then, when ONNX is only the default, `load_torch()` with one line on stderr; when QA_BACKEND=onnx was
    asked for, a BackendError that says what to change.
    """
    try:
        return load_onnx()
    except OSError as exc:
        reason = f"{exc.strerror or exc}" + (f": {exc.filename}" if getattr(exc, "filename", None) else "")
        if os.environ.get(BACKEND_ENV, "").strip():
            raise BackendError(f"cannot use the ONNX {what} ({reason}); set {CACHE_ENV} to a writable folder "
                               f"or {BACKEND_ENV}=torch") from None
        print(f"qa: the ONNX {what} is not available ({reason}); using torch (set {CACHE_ENV} to a writable "
              "folder to use ONNX Runtime)", file=sys.stderr)
        return load_torch()


def int8_enabled(model: str = "embedder") -> bool:
    """Whether QA_ONNX_INT8 asks for the int8 copy of `model` ("embedder" or "reader")."""
    value = os.environ.get(INT8_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on", "all"):
        return True
    if value in ("", "0", "false", "no", "off", "none"):
        return False
    parts = {part.strip() for part in value.split(",")}
    if not parts <= {"embedder", "reader"}:
        raise BackendError(f"{INT8_ENV}={value!r}: expected embedder, reader, embedder,reader, 1 (both) or 0 (neither)")
    return model in parts


@contextmanager
def using(name: str, int8: str = ""):
    """QA_BACKEND=name and QA_ONNX_INT8=int8 for the models fetched inside the block (this process)."""
    saved = {key: os.environ.get(key) for key in (BACKEND_ENV, INT8_ENV)}
    os.environ[BACKEND_ENV] = backend(name)
    os.environ[INT8_ENV] = int8
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa-onnx"


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def model_hash(folder: Path | str) -> str:
    """SHA-256 over the model's weights and configuration (names and bytes), and the export version."""
    folder = Path(folder).resolve()
    files = sorted({p for g in _WEIGHT_GLOBS for p in folder.glob(g)} |
                   {folder / name for name in _MODEL_FILES if (folder / name).is_file()})
    if not any(p.suffix in (".safetensors", ".bin") for p in files):
        raise FileNotFoundError(f"no model weights in {folder}")
    key = (str(folder), tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    with _lock:
        if key in _hashes:
            return _hashes[key]
    digest = hashlib.sha256(f"qa-onnx export {EXPORT_VERSION} opset {OPSET}\n".encode())
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}\n".encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    with _lock:
        _hashes[key] = value
    return value


def cache_dir(folder: Path | str) -> Path:
    return cache_root() / model_hash(folder)[:HASH_PREFIX]


def ensure_file(target: Path, write, what: str = "") -> Path:
    """`target`, made by `write(temporary_path)` if it is not there yet; atomic and one writer at a time.

    An export takes seconds and imports torch; it says so in one line on stderr (naming `what`), so that a
    first run on a new machine does not look hung (`qa prepare`, run by `make setup`, does it in advance).
    """
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # released by the kernel if this process dies
        try:
            if target.is_file():                # another process made it while this one waited
                return target
            for stale in target.parent.glob(f".{target.name}.*.tmp"):   # left by a killed export
                stale.unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            started = time.perf_counter()
            if what:
                print(f"qa: exporting the {what} to ONNX Runtime, once per machine (a few seconds) -> {target}",
                      file=sys.stderr, flush=True)
            try:
                write(Path(tmp))
                os.chmod(tmp, 0o644)        # mkstemp's 0600 would hide a shared cache from other users
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            if what:
                print(f"qa: exported the {what} in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


# --- export -----------------------------------------------------------------------------------------

def _export(module, inputs: dict, outputs: list[str], path: Path) -> None:
    import torch

    names = list(inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    for name in outputs:
        axes[name] = {0: "batch"} if name == "sentence_embedding" else {0: "batch", 1: "sequence"}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")         # tracer warnings about shapes the dynamic axes cover
        torch.onnx.export(module, tuple(inputs[n] for n in names), str(path), input_names=names,
                          output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    import onnx

    onnx.checker.check_model(str(path))    # a truncated or corrupt file fails here, not at load


def _quiet_transformers() -> None:
    """No "Loading weights" bar or load report on the terminal while exporting."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _sample_inputs(tokenizer, pair: bool) -> dict:
    texts = ["An example sentence to trace the graph.", "Short one."]
    enc = (tokenizer(["What is traced?"] * 2, texts, padding=True, return_tensors="pt") if pair
           else tokenizer(texts, padding=True, return_tensors="pt"))
    return {name: enc[name] for name in tokenizer.model_input_names if name in enc}


def export_embedder(folder: Path | str) -> Path:
    """The sentence-transformers model as one ONNX graph: encoder, mean pooling, L2 normalisation."""
    folder = Path(folder)

    def write(path: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        _quiet_transformers()
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        encoder = AutoModel.from_pretrained(str(folder), dtype=torch.float32, attn_implementation="eager").eval()
        inputs = _sample_inputs(tokenizer, pair=False)

        class Pooled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = encoder

            def forward(self, *args):
                kwargs = dict(zip(inputs, args))
                tokens = self.encoder(**kwargs).last_hidden_state
                mask = kwargs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(mean, p=2, dim=1)

        _export(Pooled().eval(), inputs, ["sentence_embedding"], path)

    return ensure_file(cache_dir(folder) / EMBEDDER_FILE, write, "embedder")


def export_embedder_int8(folder: Path | str) -> Path:
    """The embedder's graph with int8 weights (onnxruntime's dynamic quantisation)."""
    fp32 = export_embedder(folder)

    def write(path: Path) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # per-channel, 7-bit weights: the variant that moved the fewest top-ranked sentences here
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)

    return ensure_file(fp32.with_name(EMBEDDER_INT8_FILE), write, "int8 embedder")


def export_reader(folder: Path | str) -> Path:
    """A question-answering model (start and end logits per token) as an ONNX graph."""
    folder = Path(folder)

    def write(path: Path) -> None:
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        _quiet_transformers()
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model = AutoModelForQuestionAnswering.from_pretrained(str(folder), dtype=torch.float32,
                                                              attn_implementation="eager").eval()
        inputs = _sample_inputs(tokenizer, pair=True)

        class Logits(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, *args):
                out = self.model(**dict(zip(inputs, args)))
                return out.start_logits, out.end_logits

        _export(Logits().eval(), inputs, ["start_logits", "end_logits"], path)

    return ensure_file(cache_dir(folder) / READER_FILE, write, "reader")


def export_reader_int8(folder: Path | str) -> Path:
    """The reader's graph with int8 weights, except the span head (its logits are compared across windows)."""
    fp32 = export_reader(folder)

    def write(path: Path) -> None:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        head = [n.name for n in onnx.load(str(fp32)).graph.node if "qa_outputs" in n.name]
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=False, nodes_to_exclude=head)

    return ensure_file(fp32.with_name(READER_INT8_FILE), write, "int8 reader")


def exported(folder: Path | str, name: str) -> bool:
    """Whether the graph `name` (READER_FILE, ...) of the model in `folder` is in the cache already."""
    try:
        return (cache_dir(folder) / name).is_file()
    except OSError:
        return False


def prepare(embedder_folder: Path | str, reader_folder: Path | str | None) -> dict[str, str]:
    """Export the graphs the default backend answers with (the embedder's and the reader's, and their int8
    copies when QA_ONNX_INT8 asks for them), so that no question ever waits for an export.

    Returns what each model's graph is: "exported" now, "cached" already, or "torch" when the backend is
    torch (nothing to export). An unwritable cache raises OSError.
    """
    if backend() != "onnx":
        return {"embedder": "torch", "reader": "torch"}
    jobs = [("embedder", embedder_folder, EMBEDDER_INT8_FILE if int8_enabled("embedder") else EMBEDDER_FILE,
             export_embedder_int8 if int8_enabled("embedder") else export_embedder)]
    if reader_folder is not None and (Path(reader_folder) / "config.json").is_file():
        jobs.append(("reader", reader_folder, READER_INT8_FILE if int8_enabled("reader") else READER_FILE,
                     export_reader_int8 if int8_enabled("reader") else export_reader))
    out = {}
    for what, folder, name, export in jobs:
        out[what] = "cached" if exported(folder, name) else "exported"
        export(folder)
    return out


# --- sessions ---------------------------------------------------------------------------------------

def session(path: Path | str, threads: int):
    """An ONNX Runtime CPU session with `threads` intra-op threads that do not spin when idle."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # spinning threads keep a core busy after each call, which slows whatever runs next (FAISS, spaCy)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(sess, encoded) -> dict:
    names = {i.name for i in sess.get_inputs()}
    return {k: np.asarray(v, dtype=np.int64) for k, v in encoded.items() if k in names}


class OnnxEmbedder:
    """The sentence-transformers model run by ONNX Runtime, with the model's own tokenizer.

    Offers the parts of SentenceTransformer that qa.indexing.embedder uses: `encode`, `max_seq_length`,
    `get_embedding_dimension`, and `count_wordpieces`. Tokenises with the model's tokenizer.json through
    `tokenizers` (qa.indexing.wordpieces), so that answering never imports torch.
    """

    def __init__(self, folder: Path | str, int8: bool = False, query_threads: int = 1,
                 batch_threads: int | None = None):
        from .wordpieces import WordPieces

        self.folder = Path(folder)
        self.int8 = int8
        self.path = export_embedder_int8(self.folder) if int8 else export_embedder(self.folder)
        self.wordpieces = WordPieces(self.folder)
        config = self.folder / "sentence_bert_config.json"
        self.max_seq_length = int(json.loads(config.read_text())["max_seq_length"]) if config.is_file() else 256
        self.query_threads = query_threads
        self.batch_threads = batch_threads or cpu_count()
        self._sessions: dict[str, object] = {}
        self._lock = threading.Lock()
        self._dims = None
        self.session("query")       # loaded now, as SentenceTransformer loads its weights; batches' on first use

    def session(self, kind: str):
        """'query': one question at a time (query_threads); 'batch': build-time batches (batch_threads)."""
        sess = self._sessions.get(kind)
        if sess is None:
            with self._lock:
                sess = self._sessions.get(kind)
                if sess is None:
                    threads = self.query_threads if kind == "query" else self.batch_threads
                    sess = self._sessions[kind] = session(self.path, threads)
        return sess

    def get_embedding_dimension(self) -> int:
        if self._dims is None:
            dims = self.session("query").get_outputs()[0].shape[1]
            self._dims = dims if isinstance(dims, int) else int(self.run(self.session("query"), ["x"]).shape[1])
        return self._dims

    def count_wordpieces(self, texts: list[str]) -> list[int]:
        return self.wordpieces.count(texts)

    def run(self, sess, texts: list[str]) -> np.ndarray:
        """Vectors of `texts` (one padded batch) from the session `sess`."""
        enc = self.wordpieces.encode(texts, max_length=self.max_seq_length, pad=True)
        return sess.run(None, _feed(sess, self.wordpieces.arrays(enc)))[0]

    def encode(self, sentences, batch_size: int = 32, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, show_progress_bar: bool = False, **_) -> np.ndarray:
        """One text (a question: the query session) -> (dims,); a list (build time: the batch session) -> (n, dims).

        The vectors are unit length whatever `normalize_embeddings` says: normalisation is in the graph.
        """
        if isinstance(sentences, str):
            return self.run(self.session("query"), [sentences])[0]
        texts = list(sentences)
        if not texts:
            return np.zeros((0, self.get_embedding_dimension()), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")   # as sentence-transformers: less padding
        sess = self.session("batch")
        starts = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc="Batches")
        parts = [self.run(sess, [texts[i] for i in order[s:s + batch_size]]) for s in starts]
        out = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out


class OnnxReader:
    """A question-answering model run by ONNX Runtime: numpy encodings in, (start, end) logits out."""

    def __init__(self, folder: Path | str, threads: int | None = None, int8: bool = False):
        self.int8 = int8
        self.path = export_reader_int8(folder) if int8 else export_reader(folder)
        self.session = session(self.path, threads or cpu_count())

    def __call__(self, encoded) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.session.run(["start_logits", "end_logits"], _feed(self.session, encoded))
        return start, end
