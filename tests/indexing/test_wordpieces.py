"""qa.indexing.wordpieces gives the same word pieces as transformers' AutoTokenizer (which it replaces so that the
ONNX path never imports torch), for the embedder's and the reader's tokenizers, on real text; and the
reader cuts an over-long question instead of failing."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.indexing import embedder
from qa.answering import reader as reader_module
from qa.reading.sentences import split_sentences
from qa.indexing.wordpieces import WordPieces

ROOT = Path(__file__).resolve().parents[2]
TEXTS = sorted((ROOT / "data" / "texts").glob("*"))


def _sentences(limit_per_text: int = 60) -> list[str]:
    out = []
    for path in TEXTS:
        text = path.read_text(encoding="utf-8", errors="replace")
        out += [text[s:e] for s, e in split_sentences(text)][:limit_per_text]
    # accents, CJK, emoji, odd spacing, an empty string and one far longer than any window
    out += ["Café naïve résumé — “quoted” text", "東京 is in 日本.", "emoji 🙂 here", "  spaced\tout  ", "",
            " ".join(out[:40])]
    return out


def _auto(folder):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


@pytest.mark.parametrize("folder", [embedder.model_path(), reader_module.READER_DIR], ids=["embedder", "reader"])
def test_single_texts_match_autotokenizer(folder):
    texts = _sentences()
    ours, auto = WordPieces(folder), _auto(folder)
    assert ours.count(texts) == [len(i) for i in auto(texts, add_special_tokens=True, verbose=False)["input_ids"]]
    for i in range(0, len(texts), 16):
        batch = texts[i:i + 16]
        mine = WordPieces.arrays(ours.encode(batch, max_length=256, pad=True))
        theirs = auto(batch, padding=True, truncation=True, max_length=256, return_tensors="np")
        for name in mine:
            assert np.array_equal(mine[name], theirs[name]), name


def test_question_window_pairs_match_autotokenizer():
    folder = reader_module.READER_DIR
    ours, auto = WordPieces(folder), _auto(folder)
    sentences = [s for s in _sentences() if s.strip()]
    questions = ["Who founded it?", "What is the name of the river that flows through the town in the story?"]
    for q in questions:
        for i in range(0, len(sentences) - 3, 7):
            windows = [" ".join(sentences[i:i + 3]), " ".join(sentences[i + 1:i + 4]), sentences[i]]
            mine = ours.encode([q] * 3, windows, max_length=192, strategy="only_second", pad=True)
            theirs = auto([q] * 3, windows, truncation="only_second", max_length=192, padding=True,
                          return_offsets_mapping=True)
            for k, e in enumerate(mine):
                assert e.ids == theirs["input_ids"][k]
                assert e.type_ids == theirs["token_type_ids"][k]
                assert e.attention_mask == theirs["attention_mask"][k]
                assert [tuple(o) for o in e.offsets] == [tuple(o) for o in theirs["offset_mapping"][k]]
                assert e.sequence_ids == theirs.sequence_ids(k)


def test_cut_keeps_whole_word_pieces():
    ours = WordPieces(reader_module.READER_DIR)
    question = "what is the treaty " * 50
    cut = ours.cut(question, 64)
    assert question.startswith(cut) and len(ours.encode([cut], special=False)[0].ids) == 64
    assert ours.cut("Who signed it?", 64) == "Who signed it?"


@pytest.mark.slow
def test_reader_reads_an_over_long_question():
    """A 1,000-character question (the longest the request contract allows) used to fail in the tokenizer."""
    reader = reader_module.Reader(backend="torch")
    question = ("what is the treaty " * 60)[:1000]
    readings = reader.read(question, ["The treaty was signed in 1954 in Manila.", "It was short."])
    assert len(readings) == 2 and all(r.end >= r.start for r in readings)


@pytest.mark.slow
def test_onnx_answering_does_not_import_torch(tmp_path):
    """The ONNX path answers a question without torch (2.6 s and about 180 MB less per process)."""
    from qa.indexing import onnx_backend

    onnx_backend.export_embedder(embedder.model_path())      # exporting (once per cache) needs torch
    onnx_backend.export_reader(reader_module.READER_DIR)
    script = (
        "import sys\n"
        "from qa.indexing.store import load_index\n"
        "from qa.answering.ask import ask\n"
        f"a = ask(load_index({str(ROOT / 'index')!r}), 'When were diplomatic relations established?')\n"
        "assert a.answer, a\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    env = dict(os.environ, QA_BACKEND="onnx", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]
