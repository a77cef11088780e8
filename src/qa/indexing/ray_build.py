"""The per-document work of `qa build` on Ray: `qa build SOURCES --ray [ADDRESS]`.

build() keeps everything else (reading, change detection by SHA-256, the lock, the staged write and the
atomic swap, the manifest); a RayRunner only replaces its LocalRunner, the two steps that cost:

- prepare: sentence splitting and chunk packing, a unit of documents (about UNIT_BYTES of text) per call;
- annotate_embed: spaCy entities and the embedder's vectors, one group of EMBED_GROUP sentences (and their
  chunks) per call, exactly the groups of a local build, so the embedder sees the same batches.

Both run on a pool of actors, one a CPU (`cpus_per_worker`), each loading the embedder and spaCy once.
The actor pool hands the next call to whichever actor is free and gives results back in submission order,
so the index does not depend on which worker did what. Actors are restarted when their process dies and
their calls retried (`max_restarts`, `max_task_retries`); when retries run out the build stops with one
BuildError line before anything is written, and the previous index stays as it was.

Ray is imported only here, and only when asked for: without the extra, `--ray` says how to install it.
Without an address a local Ray is started on this machine (one worker a CPU) and shut down afterwards;
with one (`auto`, `ray://host:10001`, `host:6379`) the build joins that cluster, whose nodes need this
project installed (with the same models) in the same Python.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile

from .build import BuildError, _Prepared, annotate_embed, prepare_or_error
from ..config import ChunkSettings
from ..reading.documents import Document, SourceError

INSTALL_HINT = "install the ray extra: pip install 'qa[ray]'"
LOCAL = "local"
START_TIMEOUT_S = 600.0     # for the workers to be placed and load their models
UNIT_BYTES = 64_000          # text per prepare call: small enough to spread a folder, large enough to be cheap
# passed to every worker, so that it reads models the way this process does (never from a hub)
ENV_PASSED = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "TOKENIZERS_PARALLELISM")
ENV_DEFAULTS = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def import_ray():
    """The ray module, or a BuildError saying how to install it."""
    try:
        import ray
        import ray.util.actor_pool  # noqa: F401
    except ImportError:
        raise BuildError(f"--ray needs Ray, which is not installed; {INSTALL_HINT}") from None
    return ray


def worker_env() -> dict[str, str]:
    """Environment variables every worker gets: offline model loading, and this process's QA_* settings."""
    env = dict(ENV_DEFAULTS)
    env.update({k: v for k, v in os.environ.items() if k in ENV_PASSED or k.startswith("QA_")})
    return env


def start_local(num_cpus: int | None = None):
    """Start a Ray on this machine (logs in a temporary folder); returns that folder, to remove after stop()."""
    ray = import_ray()
    temp = tempfile.mkdtemp(prefix="qa-ray-")
    try:
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, _temp_dir=temp,
                 logging_level=logging.ERROR, log_to_driver=False, configure_logging=True,
                 runtime_env={"env_vars": worker_env()})
    except Exception as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise BuildError(f"cannot start a local Ray: {_reason(exc)}") from None
    return temp


def join(address: str):
    ray = import_ray()
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False,
                 runtime_env={"env_vars": worker_env()})
    except Exception as exc:
        raise BuildError(f"cannot join the Ray cluster at {address}: {_reason(exc)}") from None


class RayRunner:
    """A build runner (see qa.indexing.build.LocalRunner) whose work runs on Ray actors.

    Ray is started (or joined) at the first call with work to do, so an up-to-date index costs nothing;
    `close()` (or leaving the `with` block) ends the actors and a Ray this runner started. A Ray already
    running in this process (ray.init called by the caller) is used and left running.
    """

    def __init__(self, address: str | None = LOCAL, workers: int | None = None, cpus_per_worker: int = 1,
                 max_restarts: int = 3, max_task_retries: int = 3, start_timeout: float = START_TIMEOUT_S):
        import_ray()            # fail now, with the hint, not after the sources are read
        self.address = address or LOCAL
        self.workers = workers
        self.cpus_per_worker = cpus_per_worker
        self.max_restarts = max_restarts
        self.max_task_retries = max_task_retries
        self.start_timeout = start_timeout
        self.actors = []
        self.sent: list[str] = []           # sources handed to the cluster, for the curious (and the tests)
        self._temp = None
        self._started = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the runner's two steps ----------------------------------------------------------------------------

    def prepare(self, docs: list[Document], settings: ChunkSettings) -> list[_Prepared | SourceError]:
        units, unit, size = [], [], 0
        for doc in docs:
            unit.append(doc)
            size += len(doc.text)
            if size >= UNIT_BYTES:
                units.append(unit)
                unit, size = [], 0
        if unit:
            units.append(unit)
        self.sent.extend(doc.source for doc in docs)
        out: list[_Prepared | SourceError] = []
        for unit, results in zip(units, self._map("prepare", [(unit, settings) for unit in units])):
            for doc, result in zip(unit, results):
                if isinstance(result, str):
                    out.append(SourceError(result))
                else:
                    spans, texts, tokens, ranges = result
                    out.append(_Prepared(doc, spans, texts, tokens, ranges))
        return out

    def annotate_embed(self, groups):
        yield from self._map("annotate_embed", list(groups))

    # -- Ray -----------------------------------------------------------------------------------------------

    def _map(self, method: str, calls: list[tuple]):
        """Each call's result, in order, from whichever actor was free; Ray's failures as one BuildError."""
        if not calls:
            return
        ray = import_ray()
        from ray.util.actor_pool import ActorPool

        pool = ActorPool(self._ensure_actors())
        try:
            yield from pool.map(lambda actor, args: getattr(actor, method).remote(*args), calls)
        except ray.exceptions.RayError as exc:
            raise BuildError(_failure(exc, method)) from None

    def _ensure_actors(self):
        if self.actors:
            return self.actors
        ray = import_ray()
        if not ray.is_initialized():
            if self.address == LOCAL:
                self._temp = start_local()
            else:
                join(self.address)
            self._started = True
        free = int(ray.available_resources().get("CPU", 0))
        workers = self.workers or free // self.cpus_per_worker
        if workers < 1:
            raise BuildError(f"the Ray cluster has no free CPU for a worker ({free} free, "
                             f"{self.cpus_per_worker} a worker); the previous index is unchanged")
        remote = ray.remote(num_cpus=self.cpus_per_worker, max_restarts=self.max_restarts,
                            max_task_retries=self.max_task_retries)(_Worker)
        self.actors = [remote.remote(self.cpus_per_worker) for _ in range(workers)]
        try:        # models loaded before any work; a worker that cannot be placed would wait for ever
            ray.get([actor.ready.remote() for actor in self.actors], timeout=self.start_timeout)
        except ray.exceptions.GetTimeoutError:
            raise BuildError(f"{workers} Ray worker(s) of {self.cpus_per_worker} CPU did not start within "
                             f"{self.start_timeout:.0f} s (not enough free CPUs in the cluster?); "
                             "the previous index is unchanged") from None
        except ray.exceptions.RayError as exc:
            raise BuildError(_failure(exc, "start")) from None
        return self.actors

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and measurements)."""
        ray = import_ray()
        return ray.get([actor.pid.remote() for actor in self._ensure_actors()])

    def close(self) -> None:
        try:
            import ray
        except ImportError:
            return
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:   # already gone
                pass
        self.actors = []
        if self._started:
            ray.shutdown()
            self._started = False
        if self._temp:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None


class _Worker:
    """One Ray actor: the embedder and spaCy loaded once, then any number of calls."""

    def __init__(self, threads: int = 1):
        from . import embedder, onnx_backend
        from ..reading import entities

        threads = max(1, threads)
        # the worker's share of the machine, not the machine: ONNX Runtime sizes its build sessions by the
        # CPUs this process may run on, torch by its own count, and every worker would take them all
        onnx_backend.cpu_count = lambda: threads
        if onnx_backend.backend() == "torch":
            import torch

            torch.set_num_threads(threads)
        embedder.get_model()
        entities.get_nlp()

    def ready(self) -> bool:
        return True

    def pid(self) -> int:
        return os.getpid()

    def prepare(self, docs: list[Document], settings: ChunkSettings) -> list:
        """Per document: (spans, texts, tokens, ranges), or the message of the SourceError that skips it."""
        out = []
        for doc in docs:
            result = prepare_or_error(doc, settings)
            out.append(str(result) if isinstance(result, SourceError)
                       else (result.spans, result.texts, result.tokens, result.ranges))
        return out

    def annotate_embed(self, sentences: list[str], texts: list[str]):
        return annotate_embed(sentences, texts)


def _failure(exc: Exception, step: str) -> str:
    what = {"start": "starting the workers", "prepare": "splitting documents",
            "annotate_embed": "annotating and embedding"}.get(step, step)
    return f"the Ray build failed while {what}: {_reason(exc)}; the previous index is unchanged"


def _reason(exc: BaseException) -> str:
    """One line: the innermost cause's last line (a worker's traceback, a dead actor's summary)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException) and cause is not exc:
        return _reason(cause)
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return (lines[0] if len(lines) == 1 else _summary(lines)) if lines else type(exc).__name__


def _summary(lines: list[str]) -> str:
    for line in lines:      # an actor's death comes as several lines; the first says what happened
        if "died" in line.lower() or "unexpectedly" in line.lower():
            return line.rstrip(".")[:300]
    return lines[-1][:300]
