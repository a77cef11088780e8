"""Start the web chat and JSON API: `make run` or `python app.py`.

Defaults: the project's index/ folder on http://127.0.0.1:7860. Override with QA_INDEX, QA_HOST, QA_PORT.
"""
import os
import sys
from pathlib import Path

try:
    import qa  # noqa: F401
except ImportError:   # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))


def main() -> int:
    from qa.config import DEFAULT_INDEX
    from qa.indexing.store import IndexError_
    from qa.web.server import DEFAULT_HOST, DEFAULT_PORT, serve

    index = Path(os.environ.get("QA_INDEX") or DEFAULT_INDEX)
    host = os.environ.get("QA_HOST") or DEFAULT_HOST
    try:
        port = int(os.environ.get("QA_PORT") or DEFAULT_PORT)
    except ValueError:
        print(f"app.py: error: QA_PORT must be a number, not {os.environ['QA_PORT']!r}", file=sys.stderr)
        return 2
    try:
        serve(index, host=host, port=port)
    except IndexError_ as exc:
        print(f"app.py: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
