"""Whether an index is what today's indexing code builds from its sources, by content, not by file times.

File modification times say nothing on a fresh clone (every file is as new as the checkout), so an
index is compared with a fresh build of its own sources in a temporary folder: the same sentences and
chunks (text, offsets, links) and vectors equal within `TOLERANCE` (the backends and thread counts
differ in the last bits). The build a comparison costs is the index's size: about 4 s for the article.
"""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..config import PROJECT_ROOT
from ..indexing.store import Index, load_index

TOLERANCE = 1e-4
# the code an index's content depends on (reading, splitting, chunking, embedding, storing)
BUILD_MODULES = ("reading/*.py", "indexing/build.py", "indexing/store.py", "indexing/keyword.py",
                 "indexing/embedder.py", "indexing/onnx_backend.py", "indexing/wordpieces.py", "config.py", "types.py")
_checked: dict[tuple, bool] = {}


def indexing_code_hash() -> str:
    """A hash of the indexing code's text: the evaluation's own cached indexes are rebuilt when it changes."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted({p for pattern in BUILD_MODULES for p in package.glob(pattern)}):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def index_is_stale(folder: Path, root: Path = PROJECT_ROOT) -> bool:
    """True when a fresh build of the index's sources differs from it (cached per folder, build, code and
    sources' bytes)."""
    from ..indexing.build import build

    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        return False
    index = load_index(folder)
    sources = [Path(s["source"]) for s in index.manifest["sources"]]
    sources = [s if s.is_absolute() else root / s for s in sources]
    if not all(s.is_file() for s in sources):
        return True                               # a source is gone: the index can no longer be rebuilt as it is
    key = (str(folder.resolve()), index.build_id, indexing_code_hash(),
           tuple(hashlib.sha256(s.read_bytes()).hexdigest() for s in sources))
    if key not in _checked:
        with tempfile.TemporaryDirectory() as tmp:
            build(sources, Path(tmp) / "index", root=root, max_bytes=None)
            _checked[key] = not same_content(index, load_index(Path(tmp) / "index"))
    return _checked[key]


def same_content(a: Index, b: Index) -> bool:
    """Same sentences and chunks (every field), and vectors equal within TOLERANCE."""
    if [asdict(s) for s in a.sentences] != [asdict(s) for s in b.sentences]:
        return False
    if [asdict(c) for c in a.chunks] != [asdict(c) for c in b.chunks]:
        return False
    if a.sentence_vectors.shape != b.sentence_vectors.shape or a.chunk_vectors.ntotal != b.chunk_vectors.ntotal:
        return False
    chunks_a = a.chunk_vectors.reconstruct_n(0, a.chunk_vectors.ntotal)
    chunks_b = b.chunk_vectors.reconstruct_n(0, b.chunk_vectors.ntotal)
    return bool(np.allclose(a.sentence_vectors, b.sentence_vectors, atol=TOLERANCE, rtol=0)
                and np.allclose(chunks_a, chunks_b, atol=TOLERANCE, rtol=0))
