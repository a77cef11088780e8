"""Issue 20, item 12: identical sentences are annotated and embedded once (per group of EMBED_GROUP sentences);
a group without repeats is the same call as before, so the article's vectors do not change."""
from __future__ import annotations

import numpy as np
import pytest

from qa.indexing import build as build_module
from qa.indexing import embedder

pytestmark = pytest.mark.slow


@pytest.fixture
def embedded(monkeypatch):
    """The texts handed to the real embedder, call by call."""
    calls = []
    real = embedder.embed_texts

    def spy(texts, *args, **kwargs):
        calls.append(list(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", spy)
    return calls


def test_repeats_are_embedded_once_and_map_back(embedded):
    sentences = ["Harbour.", "The light was lit in 1891.", "Harbour.", "Harbour."]
    spans, vectors = build_module.annotate_embed(sentences, sentences + ["Harbour. Harbour."])
    assert embedded == [["Harbour.", "The light was lit in 1891.", "Harbour. Harbour."]]
    assert len(spans) == 4 and spans[0] == spans[2] == spans[3] and spans[0] is not spans[2]
    assert vectors.shape[0] == 5 and np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[0], vectors[3])
    assert not np.array_equal(vectors[0], vectors[1])


def test_a_document_of_one_repeated_paragraph_embeds_a_handful_of_texts(tmp_path, embedded):
    page = tmp_path / "page.html"
    page.write_text("<html><body>" + "<p>Harbour.</p>\n" * 3000 + "</body></html>", encoding="utf-8")
    report = build_module.build([page], tmp_path / "index", max_bytes=None)
    assert report.manifest["counts"]["sentences"] == 3000
    embedded_texts = sum(len(call) for call in embedded)
    assert embedded_texts < 3000 / 10, embedded_texts          # was 3,000 sentences and every chunk


def test_a_document_without_repeats_is_embedded_as_before(tmp_path, embedded, article_text):
    """The same calls as before the change: every sentence and chunk of the article, each group in one call."""
    from qa.config import DEFAULT_SOURCE

    build_module.build([DEFAULT_SOURCE], tmp_path / "index", force=True)
    counts = build_module.read_manifest(tmp_path / "index")["counts"]
    assert sum(len(call) for call in embedded) == counts["sentences"] + counts["chunks"]
