import json
import os
import subprocess
import sys

import pytest

from qa.config import DEFAULT_INDEX, PROJECT_ROOT

from qa.indexing.store import normalise

pytestmark = pytest.mark.slow


def run_qa(*args, **kwargs):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=300, **kwargs)


def test_ask_json_on_default_index(article_text):
    result = run_qa("ask", "--json", "When did Pakistan sign the Mutual Defense Assistance Agreement?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert "May 1954" in answer["answer"]
    c = answer["citations"][0]
    assert c["source"] == "data/pak-us-diplomatic-relations.txt"
    assert normalise(article_text[c["start"]:c["end"]]) == c["text"]
    assert "May 1954" in c["text"]
    assert set(answer) >= {"id", "question", "answer", "abstained", "confidence", "citations"}


def test_batch_of_fifty_questions_in_one_process(tmp_path):
    questions = ["When did Pakistan sign the Mutual Defense Assistance Agreement?",
                 "Who did Bilawal Bhutto Zardari meet?", "What does EWEC stand for?",
                 "How much aid did the USA provide between 1948 and 2016?", "What is the capital of Peru?"]
    rows = [{"id": f"q{i}", "question": questions[i % len(questions)]} for i in range(50)]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = run_qa("ask", "--json", "--batch", str(batch))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in rows]
    assert all("May 1954" in o["answer"] for o in out[0::5])
    assert result.stderr.count("Loading weights") <= 1


def test_batch_reports_bad_lines_and_keeps_going(tmp_path):
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"id": "a", "question": ""}\nnot json\n{"id": "b", "question": "Who met Blinken?"}\n')
    result = run_qa("ask", "--json", "--batch", str(batch))
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, "b"]
    assert "error" in out[0] and "error" in out[1] and out[2]["citations"]
    assert result.returncode == 1


@pytest.mark.parametrize("args,message", [
    (("ask", "  "), "empty"),
    (("ask", "--index", "/nonexistent/index", "Who?"), "no index"),
    (("build", "/nonexistent/file.txt"), "no such file"),
])
def test_errors_are_one_line_with_nonzero_exit(args, message):
    result = run_qa(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_build_into_a_new_folder_then_ask(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text("# Garden notes\n\nThe tomatoes were planted on 3 April 2024.\nThey were watered daily.\n")
    result = run_qa("build", str(doc), "--index", str(tmp_path / "ix"))
    assert result.returncode == 0, result.stderr
    result = run_qa("ask", "--index", str(tmp_path / "ix"), "--json", "When were the tomatoes planted?")
    answer = json.loads(result.stdout)
    assert answer["answer"] == "3 April 2024"
    assert DEFAULT_INDEX.exists()


def test_question_that_is_not_utf8_is_one_line():
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "qa", "ask", b"Who met \xff?"], capture_output=True, env=env,
                            cwd=PROJECT_ROOT, timeout=300)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1 and "Traceback" not in stderr
    assert stderr.strip().splitlines() == ["qa: error: the question is not valid UTF-8 text; "
                                           "check the terminal's encoding"]


def test_an_unknown_backend_is_one_line():
    env = dict(os.environ, HF_HUB_OFFLINE="1", QA_BACKEND="bogus")
    result = subprocess.run([sys.executable, "-m", "qa", "ask", "Who met Blinken?"], capture_output=True,
                            text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "QA_BACKEND" in result.stderr or "bogus" in result.stderr


def test_an_empty_question_is_called_empty():
    result = run_qa("ask", "")
    assert result.returncode == 1 and "the question is empty" in result.stderr
    assert "--batch" not in result.stderr


def test_batch_holds_the_same_contract_as_the_api(tmp_path):
    """Each bad line gets an error object on its line (with its id when readable); the rest are answered."""
    lines = [
        '{"id": "deep", "question": "Who?", "history": ' + "[" * 950 + "]" * 950 + "}",
        '{"id": "sur", "question": "Who met \\ud800?"}',
        '{"id": 7, "question": "Who met Blinken?"}',
        '{"id": "str-history", "question": "Who met Blinken?", "history": "he"}',
        '{"id": "dict-history", "question": "Who met Blinken?", "history": {"role": "user", "content": "x"}}',
        '{"id": "hist-sur", "question": "Who met Blinken?", "history": [{"role": "user", "content": "\\udc80"}]}',
        '{"id": "ok", "question": "Who did Bilawal Bhutto Zardari meet?"}',
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bytes", "question": "caf\xe9?"}\n'
                      + b'{"id": "last", "question": "When did Pakistan sign the Mutual Defense Assistance Agreement?"}\n')
    result = run_qa("ask", "--json", "--batch", str(batch))
    assert "Traceback" not in result.stderr and result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    # a line that could not be parsed (too deep, not UTF-8) has no readable id
    assert [o["id"] for o in out] == [None, "sur", None, "str-history", "dict-history", "hist-sur", "ok", None,
                                      "last"]
    errors = {o["id"] or f"#{n}": o["error"] for n, o in enumerate(out) if "error" in o}
    assert "nests" in errors["#0"] and "surrogate" in errors["sur"] and "'id' must be text" in errors["#2"]
    assert "'history' must be a list" in errors["str-history"] and "'history' must be a list" in errors["dict-history"]
    assert "surrogate" in errors["hist-sur"] and "UTF-8" in errors["#7"]
    assert "error" not in out[6] and "Blinken" in json.dumps(out[6])
    assert "May 1954" in out[8]["answer"]


def test_batch_line_with_a_huge_integer_is_an_error_line_and_the_rest_are_answered(tmp_path):
    """Issue 20, item 1: an integer literal over 4,300 digits made --batch die with a traceback."""
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"id": "huge", "question": "Who?", "n": ' + "9" * 5000 + "}\n"
                     '{"id": "next", "question": "When did Pakistan sign the Mutual Defense Assistance Agreement?"}\n')
    result = run_qa("ask", "--json", "--batch", str(batch))
    assert "Traceback" not in result.stderr and result.returncode == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert "number too long" in first["error"] and "May 1954" in second["answer"]


def test_a_build_says_what_it_removes_and_add_keeps_the_others(tmp_path):
    """Issue 20, item 10: `qa build FILE` on an index of other documents dropped them all, silently."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("The lighthouse on Skerra Island was first lit in 1891.", encoding="utf-8")
    b.write_text("The harbour master of Port Elsin in 1902 was Ewan Tulloch.", encoding="utf-8")
    index = tmp_path / "index"
    assert run_qa("build", str(a), str(b), "--index", str(index), "--quiet").returncode == 0
    result = run_qa("build", str(a), "--index", str(index), "--quiet")
    assert result.returncode == 0 and "removed 1 document(s)" in result.stderr and "b.txt" in result.stderr
    assert "--add" in result.stderr
    result = run_qa("build", "--add", str(b), "--index", str(index), "--quiet")
    assert result.returncode == 0 and "2 source(s)" in result.stdout and "removed" not in result.stderr
    sources = {s["source"] for s in json.loads((index / "manifest.json").read_text())["sources"]}
    assert sources == {str(a.resolve()), str(b.resolve())}


def test_command_line_edges_are_one_line_each(tmp_path):
    """Issue 20, item 11: a symlink loop named beside a good file, a file name that is not UTF-8, --max-bytes in
    KB, a port out of range, a bogus QA_ONNX_INT8, --batch from a device or a FIFO."""
    folder = tmp_path / "docs"
    folder.mkdir()
    good = folder / "good.txt"
    good.write_text("The lighthouse on Skerra Island was first lit in 1891.", encoding="utf-8")
    (folder / "loop1").symlink_to(folder / "loop2")
    (folder / "loop2").symlink_to(folder / "loop1")
    (folder / "big.txt").write_text("A sentence. " * 200, encoding="utf-8")
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"The harbour master of Port Elsin was Ewan Tulloch.")
    result = run_qa("build", str(good), str(folder / "loop1"), str(folder), "--index", str(tmp_path / "index"),
                    "--quiet", "--max-bytes", "1KB")
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr and "symlink loop" in result.stderr
    assert "file name is not valid UTF-8" in result.stderr
    assert "too large (2.4 KB; the limit is 1.0 KB" in result.stderr
    assert "1 source(s)" in result.stdout and "Traceback" not in result.stderr

    result = run_qa("serve", "--port", "99999")
    assert result.returncode == 2 and "the port must be 1 to 65535" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "-m", "qa", "ask", "When?"], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, HF_HUB_OFFLINE="1", QA_ONNX_INT8="bogus"), cwd=PROJECT_ROOT)
    assert result.returncode == 1 and "QA_ONNX_INT8='bogus'" in result.stderr and "Traceback" not in result.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for batch in ("/dev/zero", str(fifo), str(tmp_path)):
        result = run_qa("ask", "--json", "--batch", batch)
        assert result.returncode == 1 and "not a regular file" in result.stderr, (batch, result.stderr)
