"""The previous product, for the report's comparison column: its trained models, taken from the git
history of this repository (`eval/previous.json` names the commit), so a gain is shown beside what it
replaced, in the same run, on the same questions."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from ..config import PROJECT_ROOT

PREVIOUS_FILE = PROJECT_ROOT / "eval" / "previous.json"
WORK = PROJECT_ROOT / "eval" / ".work" / "previous"


def previous_commit() -> str | None:
    """The commit whose models/ are the previous product (eval/previous.json), or None."""
    try:
        return json.loads(PREVIOUS_FILE.read_text(encoding="utf-8"))["commit"]
    except (OSError, ValueError, KeyError):
        return None


def previous_models(commit: str | None = None, log=lambda m: None) -> Path | None:
    """A folder holding the previous product's reader/ and answer-model.json, extracted from `commit`
    (default: eval/previous.json's) once; None, with a log line, when git or the commit is not there."""
    commit = commit or previous_commit()
    if not commit:
        return None
    folder = WORK / commit / "models"
    if (folder / "answer-model.json").is_file() and (folder / "reader" / "config.json").is_file():
        return folder
    try:
        data = subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", "--format=tar", commit, "models"],
                              capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"no previous product: cannot read models/ at {commit} from git ({type(exc).__name__})")
        return None
    staging = WORK / f".{commit}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(staging, filter="data")
    (WORK / commit).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    (staging / "models").rename(folder)
    shutil.rmtree(staging, ignore_errors=True)
    return folder
