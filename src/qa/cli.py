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
    from .answer import QuestionError
    from .build import BuildError
    from .documents import SourceError
    from .index_store import IndexError_

    try:
        return args.run(args) or 0
    except (QuestionError, BuildError, SourceError, IndexError_, UsageError) as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask a document; get the sentence that answers.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("build", help="index files or folders (default: the bundled article)")
    p.add_argument("sources", nargs="*", type=Path, help="files or folders of .txt, .md, .html")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--force", action="store_true", help="re-embed every document, changed or not")
    p.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    p.add_argument("--max-bytes", type=_size, default=None, metavar="SIZE",
                   help="skip files larger than this (e.g. 50MB; 0 for no limit; default 20MB)")
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
    p.set_defaults(run=_eval)

    p = sub.add_parser("serve", help="start the web chat and JSON API")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(run=_serve)

    p = sub.add_parser("bench", help="measure load, build and answer times")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--quick", action="store_true", help="skip the large corpora")
    p.set_defaults(run=_bench)
    return parser


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
    from .build import build
    from .documents import DEFAULT_MAX_BYTES

    sources = args.sources or [DEFAULT_SOURCE]
    quiet = args.quiet or not sys.stderr.isatty()
    max_bytes = DEFAULT_MAX_BYTES if args.max_bytes is None else (args.max_bytes or None)
    log = (lambda m: None) if quiet else _log_line
    report = build(sources, args.index, force=args.force, log=log, progress=not quiet, max_bytes=max_bytes)
    for path, reason in report.skipped:
        print(f"qa: warning: skipped {path}: {reason}", file=sys.stderr)
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


def _log_line(message: str) -> None:
    """A line on stderr that does not tear the progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def _ask(args) -> int:
    from .answer import ask
    from .index_store import load_index

    if bool(args.question) == bool(args.batch):
        raise UsageError("give either a QUESTION or --batch FILE")
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
    from .answer import QuestionError, ask

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read batch file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    failures = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = None
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or "question" not in row:
                raise QuestionError("each line must be a JSON object with a 'question'")
            out = ask(index, row["question"], history=row.get("history"), id=row.get("id")).to_dict()
        except (json.JSONDecodeError, QuestionError) as exc:
            failures += 1
            row = row if isinstance(row, dict) else {}
            out = {"id": row.get("id"), "question": row.get("question"), "error": f"line {number}: {exc}"}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _format(answer) -> str:
    if answer.abstained:
        lines = [f"The document does not say (confidence {answer.confidence:.2f}). Closest passages:"]
        lines += [f"  - {p.source}:{p.start}-{p.end}  {p.text[:200]}" for p in answer.passages]
        return "\n".join(lines)
    lines = [f"{answer.answer}   (confidence {answer.confidence:.2f})"]
    lines += [f"  [{c.n}] {c.source}:{c.start}-{c.end}  {c.text}" for c in answer.citations]
    return "\n".join(lines)


def _eval(args) -> int:
    from .evaluation.run import run_evaluation

    return run_evaluation(index=args.index, datasets=args.dataset, out=args.out)


def _serve(args) -> int:
    from .web.server import serve

    serve(args.index, host=args.host, port=args.port)
    return 0


def _bench(args) -> int:
    from .evaluation.bench import run_bench

    return run_bench(out=args.out, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
