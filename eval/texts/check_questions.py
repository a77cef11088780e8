#!/usr/bin/env python3
"""Validate the hand-written question/answer sets in eval/texts/*.jsonl.

For every eval/texts/<stem>.jsonl the source text is data/texts/<stem>.txt.
Checks, per file and per line:

- each line is a valid JSON object with exactly the required fields and types;
- ids are unique (across all files) and look like "<short>-NNN";
- `type` is one of the allowed types;
- answerable rows: 1-3 non-empty answers, each an exact substring of the text,
  no duplicates; evidence is 6-15 words and occurs exactly once in the text;
  the first answer occurs inside the evidence or within +-300 characters of it;
- unanswerable rows: answers == [], evidence == "", type == "unanswerable";
- question is non-empty and not itself a long verbatim copy of the text
  (warning only);
- per-file counts (printed), and a warning unless a file has 18 answerable and
  6 unanswerable questions.

Standard library only. Usage: python3 eval/texts/check_questions.py [file.jsonl ...]
Exit status 0 if there are no errors (warnings do not fail the run).
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXTS = HERE.parent.parent / "data" / "texts"

REQUIRED = {
    "id": str,
    "question": str,
    "answers": list,
    "evidence": str,
    "answerable": bool,
    "type": str,
}
TYPES = {
    "date", "person", "place", "number", "entity", "definition",
    "reason", "manner", "description", "unanswerable",
}
WINDOW = 300
EXPECTED = (18, 6)  # answerable, unanswerable per file


def find_all(text, sub):
    out, start = [], 0
    while True:
        i = text.find(sub, start)
        if i < 0:
            return out
        out.append(i)
        start = i + 1


def check_file(path, seen_ids):
    errors, warnings = [], []
    stem = path.stem
    text_path = TEXTS / (stem + ".txt")
    if not text_path.exists():
        return [f"{path.name}: no text {text_path}"], [], Counter()
    text = text_path.read_text(encoding="utf-8")
    counts = Counter()
    short = None
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        if not isinstance(row, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        missing = [k for k in REQUIRED if k not in row]
        extra = [k for k in row if k not in REQUIRED]
        if missing:
            errors.append(f"{where}: missing fields {missing}")
            continue
        if extra:
            errors.append(f"{where}: unexpected fields {extra}")
        bad = [k for k, t in REQUIRED.items() if not isinstance(row[k], t)]
        if bad:
            errors.append(f"{where}: wrong type for {bad}")
            continue
        rid = row["id"]
        where = f"{path.name}:{lineno} [{rid}]"
        m = re.fullmatch(r"([a-z0-9]+)-(\d{3})", rid)
        if not m:
            errors.append(f"{where}: id should look like 'stem-001'")
        else:
            if short is None:
                short = m.group(1)
            elif m.group(1) != short:
                errors.append(f"{where}: id prefix differs from '{short}'")
        if rid in seen_ids:
            errors.append(f"{where}: duplicate id (also {seen_ids[rid]})")
        seen_ids[rid] = where
        q = row["question"].strip()
        if not q:
            errors.append(f"{where}: empty question")
        if row["type"] not in TYPES:
            errors.append(f"{where}: unknown type {row['type']!r}")
        answers, ev = row["answers"], row["evidence"]
        if not all(isinstance(a, str) for a in answers):
            errors.append(f"{where}: answers must be strings")
            continue

        if not row["answerable"]:
            counts["unanswerable"] += 1
            if answers:
                errors.append(f"{where}: unanswerable row has answers")
            if ev:
                errors.append(f"{where}: unanswerable row has evidence")
            if row["type"] != "unanswerable":
                errors.append(f"{where}: unanswerable row must have type 'unanswerable'")
            continue

        counts["answerable"] += 1
        counts[row["type"]] += 1
        if row["type"] == "unanswerable":
            errors.append(f"{where}: answerable row has type 'unanswerable'")
        if not 1 <= len(answers) <= 3:
            errors.append(f"{where}: needs 1-3 answers, has {len(answers)}")
        if len(set(answers)) != len(answers):
            errors.append(f"{where}: duplicate answers")
        for a in answers:
            if not a.strip():
                errors.append(f"{where}: empty answer")
            elif a != a.strip():
                errors.append(f"{where}: answer has leading/trailing space: {a!r}")
            elif a not in text:
                errors.append(f"{where}: answer not in text: {a!r}")
        if answers and len(answers[0]) > min(len(a) for a in answers):
            warnings.append(f"{where}: first answer is not the shortest")
        nwords = len(ev.split())
        if not 6 <= nwords <= 15:
            errors.append(f"{where}: evidence has {nwords} words (want 6-15)")
        occ = find_all(text, ev) if ev else []
        if len(occ) != 1:
            errors.append(f"{where}: evidence occurs {len(occ)} times in text: {ev!r}")
        elif answers and answers[0] in text:
            e0, e1 = occ[0], occ[0] + len(ev)
            near = [
                i for i in find_all(text, answers[0])
                if i + len(answers[0]) >= e0 - WINDOW and i <= e1 + WINDOW
            ]
            if not near:
                errors.append(
                    f"{where}: first answer {answers[0]!r} not within {WINDOW} chars of evidence"
                )
        # soft check: long verbatim overlap between question and text
        words = re.findall(r"\S+", q.rstrip("?"))
        for n in (7,):
            for i in range(len(words) - n + 1):
                gram = " ".join(words[i:i + n])
                if gram in text:
                    warnings.append(f"{where}: question copies {n}+ words of the text: {gram!r}")
                    break
    if (counts["answerable"], counts["unanswerable"]) != EXPECTED:
        warnings.append(
            f"{path.name}: {counts['answerable']} answerable / {counts['unanswerable']} "
            f"unanswerable (expected {EXPECTED[0]} / {EXPECTED[1]})"
        )
    return errors, warnings, counts


def main(argv):
    files = [Path(p) for p in argv] or sorted(HERE.glob("*.jsonl"))
    if not files:
        print("no .jsonl files found", file=sys.stderr)
        return 1
    seen_ids = {}
    all_err, all_warn = [], []
    print(f"{'file':45} {'ans':>4} {'unans':>5}  types")
    total = Counter()
    for f in files:
        err, warn, c = check_file(f, seen_ids)
        all_err += err
        all_warn += warn
        total["answerable"] += c["answerable"]
        total["unanswerable"] += c["unanswerable"]
        types = ", ".join(
            f"{t}:{c[t]}" for t in sorted(TYPES - {"unanswerable"}) if c[t]
        )
        print(f"{f.name:45} {c['answerable']:>4} {c['unanswerable']:>5}  {types}")
    print(f"{'total':45} {total['answerable']:>4} {total['unanswerable']:>5}")
    for w in all_warn:
        print("WARNING", w)
    for e in all_err:
        print("ERROR", e)
    print(f"{len(files)} files, {len(all_err)} errors, {len(all_warn)} warnings")
    return 1 if all_err else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
