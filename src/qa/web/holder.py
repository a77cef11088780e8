"""The index a server answers from, loaded once and swapped when a rebuild lands."""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from ..indexing.store import MANIFEST, Index, IndexError_, load_index, read_manifest

log = logging.getLogger("qa.web")


class IndexHolder:
    """Holds the loaded index of one folder; `get()` re-loads it after a rebuild.

    A rebuild swaps a new folder in atomically, so `manifest.json` is replaced. `get()` stats that file
    (a few microseconds) and only when it changed reads the manifest; only a new `build_id` loads the
    index again. If the new index cannot be loaded (load_index checks the manifest, sentences and chunks
before handing it over) the old one keeps serving.
    """

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self._index: Index | None = None
        self._stamp: tuple | None = None       # stat of the manifest the loaded index came from
        self._failed_stamp: tuple | None = None
        self._lock = threading.Lock()

    def get(self) -> Index:
        """The current index; raises IndexError_ only when no index was ever loaded."""
        stamp = self._manifest_stamp()
        if self._index is not None and stamp in (self._stamp, self._failed_stamp, None):
            return self._index
        with self._lock:
            stamp = self._manifest_stamp()
            if self._index is None or stamp not in (self._stamp, self._failed_stamp, None):
                self._reload(stamp)
        return self._index

    def serve(self, folder: Path | str) -> None:
        """Answer from another index folder from now on (the chat's working index, once documents are added);
        the index loaded now keeps answering until the new one loads."""
        folder = Path(folder)
        with self._lock:
            if folder == self.folder:
                return
            self.folder, self._stamp, self._failed_stamp = folder, None, None

    def _reload(self, stamp: tuple | None) -> None:
        try:
            if self._index is not None and read_manifest(self.folder).get("build_id") == self._index.build_id:
                self._stamp = stamp
                return
            index = load_index(self.folder)
        except Exception as exc:     # IndexError_ says what is wrong; anything else must not stop serving either
            if self._index is None:
                raise
            self._failed_stamp = stamp
            log.warning("keeping the loaded index (build %s): %s", self._index.build_id,
                        exc if isinstance(exc, IndexError_) else f"{type(exc).__name__}: {exc}")
            return
        if self._index is not None:
            log.info("loaded rebuilt index %s (was %s)", index.build_id, self._index.build_id)
        self._index, self._stamp, self._failed_stamp = index, stamp, None
        if self._manifest_stamp() != stamp:     # swapped again while loading: check on the next call
            self._stamp = None

    def _manifest_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.folder / MANIFEST)
        except OSError:
            return None
        return (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def manifest_summary(index: Index) -> dict:
    """What /api/health and the chat header show about the index."""
    m = index.manifest
    return {
        "status": "ok",
        "index": str(index.folder),
        "build_id": m.get("build_id"),
        "built_at": m.get("built_at"),
        "model": m.get("model"),
        "dims": m.get("dims"),
        "counts": m.get("counts", {}),
        "sources": [
            {key: s.get(key) for key in ("source", "bytes", "chars", "sentences", "chunks", "sha256")}
            for s in m.get("sources", [])
        ],
    }
