"""A model's own word-piece tokenizer (its tokenizer.json), run by the `tokenizers` library directly.

transformers' AutoTokenizer wraps the same Rust tokenizer, but importing it imports torch (2.6 s and
about 180 MB here), which the ONNX Runtime path otherwise never needs. The ids, offsets and sequence ids
are the same as AutoTokenizer's (tests/indexing/test_wordpieces.py checks it on real text).

Each truncation setting gets its own copy of the tokenizer, configured once: a `tokenizers.Tokenizer`'s
truncation and padding are state, and answers are computed in several threads at once.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


class WordPieces:
    def __init__(self, folder: Path | str):
        from tokenizers import Tokenizer

        self.path = Path(folder) / "tokenizer.json"
        self._json = self.path.read_text(encoding="utf-8")
        probe = Tokenizer.from_str(self._json)
        self.pad_token = "[PAD]"
        self.pad_id = probe.token_to_id(self.pad_token)
        if self.pad_id is None:
            raise ValueError(f"{self.path} has no {self.pad_token} token")
        special = [probe.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[MASK]")]
        self.special_ids = np.array([i for i in special if i is not None], dtype=np.int64)
        self._copies: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def _tokenizer(self, max_length: int | None, strategy: str, pad: bool):
        key = (max_length, strategy, pad)
        tok = self._copies.get(key)
        if tok is None:
            with self._lock:
                tok = self._copies.get(key)
                if tok is None:
                    from tokenizers import Tokenizer

                    tok = Tokenizer.from_str(self._json)
                    tok.no_truncation()
                    tok.no_padding()
                    if max_length is not None:
                        tok.enable_truncation(max_length, strategy=strategy)
                    if pad:
                        tok.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token)
                    self._copies[key] = tok
        return tok

    def encode(self, texts: list[str], pairs: list[str] | None = None, max_length: int | None = None,
               strategy: str = "longest_first", pad: bool = False, special: bool = True) -> list:
        """One `tokenizers.Encoding` per text (or text pair): ids, offsets, sequence ids.

        `max_length` cuts the encodings to that many word pieces (special tokens included) with the
        given strategy; `pad` pads them to the longest.
        """
        tok = self._tokenizer(max_length, strategy, pad)
        items = list(zip(texts, pairs)) if pairs is not None else list(texts)
        return tok.encode_batch(items, add_special_tokens=special)

    def count(self, texts: list[str]) -> list[int]:
        """Word pieces per text, special tokens included, nothing cut."""
        return [len(e.ids) for e in self.encode(list(texts))]

    @staticmethod
    def arrays(encodings: list) -> dict[str, np.ndarray]:
        """The model inputs of padded encodings, as int64 arrays."""
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def cut(self, text: str, max_tokens: int) -> str:
        """The text's beginning that holds at most `max_tokens` word pieces (no special tokens)."""
        enc = self.encode([text], special=False)[0]
        if len(enc.ids) <= max_tokens:
            return text
        return text[:enc.offsets[max_tokens - 1][1]]
