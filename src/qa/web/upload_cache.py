"""The chat's own upload cache: the only place a file handed to the app may come from.

Gradio keeps each upload (`POST /gradio_api/upload`) in its cache folder and the page then names it in
a `FileData` (`{"path": ...}`). Launched with `demo.launch()`, Gradio refuses a FileData whose path is
not one of its uploads; mounted with `gr.mount_gradio_app`, as here, it skips that check and copies
*any* readable file the page names into its cache before the event runs (so a handler that only checks
"inside the cache" would see the copy). So the app checks for itself:

- the cache is a folder of the app's own (GRADIO_TEMP_DIR set to it before the page is built);
- `guard(component)` makes a component refuse, before anything is copied, every path that is not a
  regular file inside that folder (and every URL): the file input and the chatbot (whose messages
  could carry files) alike;
- `received(path)` is the handlers' own check: inside the folder, a regular file, received by Gradio's
  upload route in this process;
- `middleware` bounds the folder: an upload request over MAX_REQUEST_BYTES is refused, files older
  than MAX_AGE_SECONDS go, and the oldest go until the new upload fits in MAX_CACHE_BYTES;
- handlers `discard()` what they refused or indexed.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from starlette.responses import PlainTextResponse

from .uploads import MAX_UPLOAD_BYTES

log = logging.getLogger("qa.web")

MAX_CACHE_BYTES = 50 * 1024 * 1024          # all uploads kept at once
MAX_AGE_SECONDS = 3600                       # an upload nobody rebuilt with is dropped after an hour
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024     # one file and its multipart framing
UPLOAD_ROUTE = "/gradio_api/upload"


class UploadRefused(ValueError):
    """A path the page sent that is not one of this app's uploads."""


class UploadCache:
    def __init__(self, folder: Path | str | None = None, cap: int = MAX_CACHE_BYTES, max_age: float = MAX_AGE_SECONDS):
        if folder is None:
            folder = tempfile.mkdtemp(prefix="qa-upload-cache-")     # mode 0700, this process's own
            atexit.register(shutil.rmtree, folder, True)
        self.folder = Path(os.path.realpath(folder))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cap, self.max_age = cap, max_age
        self.blocks = None               # set by install(): Gradio records what its upload route received
        self._lock = threading.Lock()

    # ------------------------------------------------------------ set-up

    def install(self) -> None:
        """Point Gradio's cache here; call before building the Blocks and mounting them."""
        os.environ["GRADIO_TEMP_DIR"] = str(self.folder)

    def guard(self, component) -> None:
        """Make `component` refuse any file from the page that is not inside this cache (nothing is copied)."""
        def check(path):
            if path is None:
                return None
            return str(self.inside(path))

        async def async_check(path):
            return check(path)

        component.move_resource_to_block_cache = check
        component.async_move_resource_to_block_cache = async_check

    # ------------------------------------------------------------ checks

    def inside(self, path) -> Path:
        """The resolved path if it names a regular file inside the cache folder, else UploadRefused."""
        text = str(path or "")
        if not text or "://" in text:
            raise UploadRefused("this file was not uploaded to this page; choose the file again")
        real = Path(os.path.realpath(text))
        try:
            real.relative_to(self.folder)
        except ValueError:
            raise UploadRefused("this file was not uploaded to this page; choose the file again") from None
        if os.path.islink(text) or not real.is_file():
            raise UploadRefused("the uploaded file is no longer on the server; choose the file again")
        return real

    def received(self, path) -> Path:
        """`inside()`, and received by Gradio's upload route (when the Blocks are known)."""
        real = self.inside(path)
        if self.blocks is not None:
            seen = {os.path.realpath(p) for p in getattr(self.blocks, "upload_file_set", ())}
            if str(real) not in seen:
                raise UploadRefused("this file was not uploaded to this page; choose the file again")
        return real

    # ------------------------------------------------------------ bounding the folder

    def discard(self, path) -> None:
        """Delete an upload (refused, or saved into the uploads folder) and its now-empty folder."""
        try:
            real = self.inside(path)
        except UploadRefused:
            return
        try:
            real.unlink()
            if real.parent != self.folder:
                real.parent.rmdir()
        except OSError:
            pass
        if self.blocks is not None:
            getattr(self.blocks, "upload_file_set", set()).discard(str(path))

    def files(self) -> list[tuple[float, int, Path]]:
        out = []
        for root, _dirs, names in os.walk(self.folder):
            for name in names:
                path = Path(root) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                out.append((st.st_mtime, st.st_size, path))
        return sorted(out)

    def size(self) -> int:
        return sum(size for _, size, _ in self.files())

    def prune(self, incoming: int = 0) -> int:
        """Drop files older than max_age, then the oldest until `incoming` more bytes fit; bytes kept."""
        with self._lock:
            now = time.time()
            files = self.files()
            total = sum(size for _, size, _ in files)
            for mtime, size, path in files:
                if now - mtime <= self.max_age and total + incoming <= self.cap:
                    break
                try:
                    path.unlink()
                    total -= size
                except OSError:
                    continue
                try:
                    if path.parent != self.folder:
                        path.parent.rmdir()
                except OSError:
                    pass
            return total



class UploadLimit:
    """ASGI middleware (`app.add_middleware(UploadLimit, cache=...)`): bounds each upload request, and the
    cache folder, before Gradio's upload route writes anything."""

    def __init__(self, app, cache: UploadCache):
        self.app, self.cache = app, cache

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith(UPLOAD_ROUTE):
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length", b"").decode("latin-1")
            if not length.isdigit():
                response = PlainTextResponse("an upload must say its size (Content-Length)", status_code=411)
                return await response(scope, receive, send)
            if int(length) > MAX_REQUEST_BYTES:
                response = PlainTextResponse(f"an upload may be at most {MAX_UPLOAD_BYTES:,} bytes",
                                             status_code=413)
                return await response(scope, receive, send)
            self.cache.prune(int(length))
        return await self.app(scope, receive, send)
