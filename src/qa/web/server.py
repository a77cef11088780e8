"""One FastAPI app serving the JSON API under /api and the Gradio chat at /."""
from __future__ import annotations

import logging
import socket
import sys
import time
from pathlib import Path

from fastapi import FastAPI

from .api import api_router, install_error_handlers
from .service import QAService

log = logging.getLogger("qa.web")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def create_app(index_dir: Path | str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
               concurrency: int | None = None, warm_up: bool = True, uploads: bool | None = None,
               uploads_dir: Path | str | None = None, upload_cache: Path | str | None = None) -> FastAPI:
    """Load the index (and the model), then build the app: API routes first, the chat mounted at /.

    `uploads` (default: QA_UPLOADS, on unless "0") adds the chat's "Add a document" panel when the policy
    allows it (qa.web.uploads.upload_policy: on loopback, or anywhere with QA_UPLOAD_TOKEN). It saves files in
    `uploads_dir` (default: QA_UPLOADS_DIR, else data/uploads for the project's index/, else
    `<index>.uploads`) and builds the working index beside it; `index_dir` is never written. There is no
    API endpoint for it.
    """
    import gradio as gr

    from .assets import CSS, JS
    from .chat import build_chat
    from .docs_page import add_docs
    from .fairness import ClientLimits
    from .guard import RequestGuard
    from .upload_cache import UploadCache, UploadLimit
    from .uploads import MAX_UPLOAD_BYTES, Uploads, upload_policy

    service = QAService(index_dir, concurrency)
    if warm_up:
        service.warm_up()
    else:
        service.holder.get()
    app = FastAPI(title="qa: ask a document", version="1", docs_url=None, redoc_url=None,
                  description="Extractive answers with cited sentences. The chat is at /.")
    install_error_handlers(app)
    app.include_router(api_router(service))
    add_docs(app)
    app.state.service = service

    enabled, token, policy = upload_policy(uploads, host)
    adder = Uploads(service, uploads_dir, token=token) if enabled else None
    app.state.uploads = adder
    app.state.upload_policy = policy
    # The app's own upload cache (a private temporary folder unless `upload_cache` names one): Gradio
    # stores uploads there, and the page's files are accepted from there only (see upload_cache.py).
    cache = UploadCache(upload_cache)
    cache.install()
    app.state.upload_cache = cache
    app.add_middleware(UploadLimit, cache=cache)
    demo = build_chat(service, adder, cache)
    cache.blocks = demo
    app.state.blocks = demo
    demo.queue(default_concurrency_limit=service.concurrency, max_size=64)
    # outermost: bounds every route, Gradio's included (see guard.py)
    app.add_middleware(RequestGuard, limits=ClientLimits(), holder=app.state)
    return gr.mount_gradio_app(
        app, demo, path="/", server_name=host, server_port=port, ssr_mode=False, mcp_server=False,
        footer_links=["settings"], run_history=False, show_error=False,
        theme=theme(), css=CSS, js=JS,
        # Gradio refuses larger uploads before they reach the disk; the chat checks the limit again.
        max_file_size=MAX_UPLOAD_BYTES if adder is not None else 1,
    )


def check_port_free(host: str, port: int) -> None:
    """Fail at once, with one line, when the address is taken (rather than after loading the model)."""
    if not 0 < port < 65536:
        raise SystemExit(f"qa: error: the port must be 1 to 65535, not {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise SystemExit(f"qa: error: cannot listen on {host}:{port} ({exc.strerror}); "
                             "choose another port with --port") from None


def theme():
    """Gradio's default theme with IBM Plex Sans, whose font files ship inside gradio (no outside request)."""
    import gradio as gr

    font = gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700))   # its SemiBold file is a subset
    mono = gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700))
    return gr.themes.Default(primary_hue="blue", font=[font, "ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=[mono, "ui-monospace", "monospace"])


def serve(index_dir: Path | str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          uploads: bool | None = None, uploads_dir: Path | str | None = None) -> None:
    """Start the chat and the API with uvicorn; blocks until interrupted.

    `uploads`/`uploads_dir`: see create_app (QA_UPLOADS=0 turns the chat's "Add a document" panel off).
    """
    import uvicorn

    check_port_free(host, port)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    started = time.perf_counter()
    app = create_app(index_dir, host=host, port=port, uploads=uploads, uploads_dir=uploads_dir)
    shown = f"[{host}]" if ":" in host else host
    print(f"qa: index {index_dir} loaded in {time.perf_counter() - started:.1f} s; "
          f"chat on http://{shown}:{port}/ , API on http://{shown}:{port}/api/ask (docs: /docs)",
          file=sys.stderr, flush=True)
    adder = app.state.uploads
    where = (f" (saved in {adder.folder}, served from {adder.work}; {index_dir} is never written, and at most "
             f"{adder.max_documents} documents, {adder.max_bytes // 2**20} MB are added)") if adder is not None else ""
    print(f"qa: {app.state.upload_policy}{where}", file=sys.stderr, flush=True)
    stop_cleanly_on_sigterm()
    from .guard import MAX_CONNECTIONS, bounded_protocol

    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3,
                http=bounded_protocol(), limit_concurrency=MAX_CONNECTIONS)


def stop_cleanly_on_sigterm() -> None:
    """A service stop (SIGTERM) ends the process as Ctrl-C does, through its exit handlers (which remove the
    upload cache). uvicorn catches SIGTERM, shuts down, then raises it again under the handler it found:
    Python's default would end the process at once, skipping them."""
    import signal

    def exit_on_sigterm(signum, frame):
        raise SystemExit(128 + signum)

    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, exit_on_sigterm)
