"""The `qa` command: build, ask, eval, serve, bench."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .config import DEFAULT_INDEX, DEFAULT_SOURCE  # noqa: E402


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from .answering.ask import QuestionError
    from .indexing.build import BuildError
    from .reading.documents import SourceError
    from .indexing.store import IndexError_
    from .answering.reader import ReaderMissing
    from .indexing.onnx_backend import BackendError

    try:
        return args.run(args) or 0
    except (QuestionError, BuildError, SourceError, IndexError_, UsageError, ReaderMissing, BackendError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask a document; get the sentence that answers.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("build", help="index files or folders (default: the bundled article); the index then holds "
                                     "exactly these, so documents it held and not named are removed (it says which)")
    p.add_argument("sources", nargs="*", type=Path, help="files or folders of .txt, .md, .html, .pdf, .docx")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--add", action="store_true",
                   help="add SOURCES to the documents the index already holds, instead of replacing them")
    p.add_argument("--force", action="store_true", help="re-embed every document, changed or not")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    p.add_argument("--max-bytes", type=_size, default=None, metavar="SIZE",
                   help="skip files larger than this (e.g. 50MB; 0 for no limit; default 20MB)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="split, annotate and embed on Ray: a local Ray on this machine, or the cluster at "
                        "ADDRESS (auto, ray://host:10001); needs pip install 'qa[ray]'")
    p.set_defaults(run=_build)

    p = sub.add_parser("ask", help="answer a question from the index")
    p.add_argument("question", nargs="?")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--batch", type=Path, help="JSON Lines file of {question, id}; one JSON answer a line")
    p.set_defaults(run=_ask)

    p = sub.add_parser("eval", help="run the evaluation suite and write the report")
    p.add_argument("--index", type=Path, default=None)
    p.add_argument("--dataset", type=Path, action="append", help="a Q&A JSON Lines file (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="report folder (default: eval/)")
    p.add_argument("--squad", type=Path, action="append",
                   help="a SQuAD 2.0 JSON file: each article asked as one whole document (repeatable)")
    p.add_argument("--previous", metavar="COMMIT", default="default",
                   help="the commit whose models/ are the previous product's column (default: eval/previous.json's, "
                        "on a full run); 'none' leaves the column out")
    p.set_defaults(run=_eval)

    p = sub.add_parser("train", help="train the reader and the answer model (models/), from data in the repository")
    p.add_argument("--only", choices=("reader", "answer-model"), help="train one of the two")
    p.set_defaults(run=_train)

    p = sub.add_parser("serve", help="start the web chat and JSON API")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=7860)
    p.set_defaults(run=_serve)

    p = sub.add_parser("prepare", help="export the models to ONNX Runtime now (make setup runs it), so that no "
                                       "question waits for an export")
    p.set_defaults(run=_prepare)

    p = sub.add_parser("bench", help="measure load, build and answer times")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--quick", action="store_true", help="skip the large corpora")
    p.add_argument("--ray", action="store_true",
                   help="instead: the 100x corpus built with a local Ray and in one process (eval/bench-ray.md)")
    p.set_defaults(run=_bench)
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"the port must be 1 to 65535, not {value}")
    return value


def _size(text: str) -> int:
    """A size in bytes: 20000000, 20MB, 500KB, 1GB."""
    units = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9}
    number = text.strip().lower().rstrip("bgkm")
    unit = text.strip().lower()[len(number):]
    try:
        value = float(number) * units[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 20MB)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(value)


def _build(args) -> int:
    from .indexing.build import build
    from .reading.documents import DEFAULT_MAX_BYTES

    sources = list(args.sources)
    if args.ray is not None and not _looks_like_address(args.ray) and Path(args.ray).exists():
        sources.insert(0, Path(args.ray))       # `qa build --ray docs/`: argparse took the folder for an address
        args.ray = "local"
    if args.add:
        if not sources:
            raise UsageError("--add needs the files or folders to add")
        sources = _held_sources(args.index) + sources
    sources = sources or [DEFAULT_SOURCE]
    quiet = args.quiet or not sys.stderr.isatty()
    max_bytes = DEFAULT_MAX_BYTES if args.max_bytes is None else (args.max_bytes or None)
    log = (lambda m: None) if quiet else _log_line
    runner = None
    if args.ray is not None:
        from .indexing.ray_build import RayRunner

        runner = RayRunner(args.ray)
    try:
        report = build(sources, args.index, force=args.force, log=log, progress=not quiet, max_bytes=max_bytes,
                       runner=runner)
    finally:
        if runner is not None:
            runner.close()
    for path, reason in report.skipped:
        print(f"qa: warning: skipped {path}: {reason}", file=sys.stderr)
    if report.removed:
        shown = ", ".join(report.removed[:5]) + (f" and {len(report.removed) - 5} more" if len(report.removed) > 5 else "")
        print(f"qa: warning: removed {len(report.removed)} document(s) the index held and this build did not name: "
              f"{shown} (`qa build --add FILE` adds a document and keeps the others)", file=sys.stderr)
    _ready_to_answer()
    m = report.manifest
    counts = m["counts"]
    if report.unchanged:
        print(f"index {args.index} is up to date ({counts['sources']} source(s), {counts['sentences']} sentences, "
              f"{counts['chunks']} chunks); nothing to rebuild")
    else:
        reused = f", {len(report.reused)} unchanged source(s) reused" if report.reused else ""
        print(f"built {args.index}: {counts['sources']} source(s), {counts['sentences']} sentences, "
              f"{counts['chunks']} chunks in {m['build_seconds']:.2f} s{reused}")
    return 0


def _held_sources(index: Path) -> list[Path]:
    """The files the index holds now, for --add; one gone from disk is said, and left out."""
    from .indexing.build import indexed_sources, source_path

    held = []
    for source in indexed_sources(index):
        path = source_path(source)
        if path.exists():
            held.append(path)
        else:
            print(f"qa: warning: {source}, indexed before, is no longer there; it leaves the index", file=sys.stderr)
    return held


def _ready_to_answer() -> None:
    """After a build: the reader's export too (the build exported the embedder), so the first question is
    answered at full speed; a cache that cannot be written is left to the question (it falls back to torch)."""
    from .indexing import onnx_backend
    from .indexing.embedder import model_path
    from .answering.reader import READER_DIR

    try:
        onnx_backend.prepare(model_path(), READER_DIR)
    except OSError:
        pass


def _prepare(args=None) -> int:
    from .indexing import onnx_backend
    from .indexing.embedder import model_path
    from .answering.reader import READER_DIR

    try:
        states = onnx_backend.prepare(model_path(), READER_DIR)
    except OSError as exc:
        raise onnx_backend.BackendError(
            f"cannot write the ONNX export cache ({exc.strerror or exc}: {getattr(exc, 'filename', '')}); set "
            f"{onnx_backend.CACHE_ENV} to a writable folder, or {onnx_backend.BACKEND_ENV}=torch") from None
    if set(states.values()) == {"torch"}:
        print("backend is torch (QA_BACKEND): nothing to export")
    else:
        print("ONNX models ready: " + ", ".join(f"{k} {v}" for k, v in states.items())
              + f" (in {onnx_backend.cache_root()})")
    return 0


def _looks_like_address(text: str) -> bool:
    import re

    return text in ("local", "auto") or "://" in text or re.fullmatch(r"[\w.-]+:\d+", text) is not None


def _log_line(message: str) -> None:
    """A line on stderr that does not tear the progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def _ask(args) -> int:
    from .answering.ask import ask
    from .indexing.store import load_index

    from .answering.ask import QuestionError, validate_question
    from .answering.requests import RequestError, check_text

    if args.question is not None and args.batch:
        raise UsageError("give either a QUESTION or --batch FILE, not both")
    if args.question is None and not args.batch:
        raise UsageError("give either a QUESTION or --batch FILE")
    if args.question is not None:       # checked before the index and the model are loaded
        try:
            # bytes that are not UTF-8 reach argv as unpaired surrogates ("\udcff")
            check_text(args.question, "question")
        except RequestError:
            raise QuestionError("the question is not valid UTF-8 text; check the terminal's encoding") from None
        validate_question(args.question)
    index = load_index(args.index)
    if args.batch:
        return _ask_batch(index, args.batch)
    answer = ask(index, args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(_format(answer))
    return 0


def _ask_batch(index, path: Path) -> int:
    """One JSON answer a line, in order; a line outside the request contract (qa.answering.requests, as for the
    API) gets {"id", "question", "error"} on its line, and the rest go on."""
    from .answering.ask import QuestionError, ask
    from .answering.requests import MAX_BODY_BYTES, RequestError, parse_request, printable

    try:
        # without blocking: a FIFO with no writer would wait forever; then only a regular file is read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise UsageError(f"cannot read batch file {path}: {exc.strerror or exc}") from None
    import stat

    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UsageError(f"batch file {path} is not a regular file (a FIFO, a device or a folder); "
                         "give a file of JSON Lines")
    os.set_blocking(fd, True)
    handle = os.fdopen(fd, "rb")
    failures = 0
    with handle:
        for number, raw in enumerate(_lines(handle, MAX_BODY_BYTES), 1):
            if raw is not None and not raw.strip():
                continue
            row = None
            try:
                if raw is None:
                    raise RequestError(f"the line is too long (the limit is {MAX_BODY_BYTES:,} bytes)")
                row = parse_request(raw, "the line")
                out = ask(index, row.question, history=row.history, id=row.id).to_dict()
            except (RequestError, QuestionError) as exc:
                failures += 1
                known = exc if isinstance(exc, RequestError) else row
                question = getattr(known, "question", None)
                out = {"id": getattr(known, "id", None),
                       "question": printable(question) if isinstance(question, str) else None,
                       "error": f"line {number}: {exc}"}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _lines(handle, limit: int):
    """The file's lines as bytes (None for a line over `limit`, which is skipped unread)."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(limit + 1)
            yield None
            continue
        yield line.rstrip(b"\r\n")


TIER_WORDS = {
    "confident": "confident: the cited sentence says so",
    "unsure": "unsure: the document may answer this; read the cited sentence before relying on it",
}


def _format(answer) -> str:
    """The answer with its tier in words (confident, unsure, or "does not say") and the model's score."""
    if answer.abstained or answer.tier == "none":
        if not answer.passages:
            return f"The document does not say (score {answer.confidence:.2f}); no passage is close to the question."
        lines = [f"The document does not say (score {answer.confidence:.2f}). Closest passages:"]
        lines += [f"  - {p.source}:{p.start}-{p.end}  {p.text[:200]}" for p in answer.passages]
        return "\n".join(lines)
    tier = TIER_WORDS.get(answer.tier, TIER_WORDS["unsure"])
    lines = [f"{answer.answer}   ({tier}; score {answer.confidence:.2f})"]
    lines += [f"  [{c.n}] {c.source}:{c.start}-{c.end}{_place(c)}  {c.text}" for c in answer.citations]
    return "\n".join(lines)


def _place(citation) -> str:
    """What follows a citation's offsets: " (p. 12)" or " (pp. 12-13)" for a PDF, " (under “Heading”)" for a
    Word file, "" for other sources."""
    if citation.page:
        same = citation.end_page in (None, citation.page)
        return f" (p. {citation.page})" if same else f" (pp. {citation.page}-{citation.end_page})"
    return f" (under “{citation.heading}”)" if citation.heading else ""


def _eval(args) -> int:
    from .evaluation.run import run_evaluation

    previous = None if args.previous in ("none", "") else args.previous
    return run_evaluation(index=args.index, datasets=args.dataset, out=args.out, squad=args.squad, previous=previous)


def _train(args) -> int:
    from .training.run import run_training

    return run_training(args.only)


def _serve(args) -> int:
    from .web.server import serve

    serve(args.index, host=args.host, port=args.port)
    return 0


def _bench(args) -> int:
    if args.ray:
        from .bench.ray_build import run_bench_ray

        return run_bench_ray(out=args.out)
    from .bench.speed import run_bench

    return run_bench(out=args.out, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
