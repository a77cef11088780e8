"""The server's outer guard: every request is bounded before a route of the API or of Gradio sees it.

- Routes the chat does not use are not served (404): Gradio's dev-mode reload stream, its monitoring,
  login, MCP, proxy, streaming and run-history routes, and its direct-call API (`/gradio_api/run|api|call/…`;
  the chat's functions are private and the JSON API is `/api/ask`).
- Every request body is bounded: at most MAX_BODY_BYTES (1 MiB), an upload MAX_REQUEST_BYTES; a larger
  Content-Length is a 413 before anything is read, a body that grows past it a 413 as soon as it does.
- A body must arrive within BODY_SECONDS (an upload within UPLOAD_SECONDS): a client that sends less than
  its Content-Length gets a 408 and the connection is closed. BoundedH11Protocol closes a connection
  whose request line and headers do not arrive within HEADER_SECONDS.
- A chat event (`/gradio_api/queue/join`) is read and checked here: JSON (no huge integers, bounded
  nesting), a function of this page (`fn_index`), as many values as its inputs; else a 4xx.
- Each client's share (qa.web.fairness): `/api/ask` and chat events beyond it get a 429 with Retry-After.
- A client's error is one log line: a refusal here, a client that goes away mid-request, a body cut short;
  never a traceback (those stay for the server's own bugs).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from ..answering.requests import MAX_BODY_BYTES, json_depth
from .fairness import ClientLimits, TooMany, client_key
from .upload_cache import MAX_REQUEST_BYTES, UPLOAD_ROUTE

log = logging.getLogger("qa.web")

BODY_SECONDS = 10.0          # a JSON body of at most 1 MiB: plenty even on a slow link
UPLOAD_SECONDS = 120.0       # a 5 MB upload at 45 KB/s
HEADER_SECONDS = 10.0        # from connecting (or the previous response) to a whole request line and headers
MAX_CONNECTIONS = 1000       # uvicorn's limit_concurrency: connections and requests at once, then 503
EVENT_ROUTE = "/gradio_api/queue/join"
API_ASK = "/api/ask"
MAX_EVENT_DEPTH = 32         # a chat event nests its chat history: deeper than a question request
# Not served: nothing of dev mode, and nothing the chat page does not use.
CLOSED = ("/gradio_api/dev", "/gradio_api/vibe-edit", "/monitoring", "/gradio_api/monitoring", "/login", "/logout",
          "/gradio_api/run-history", "/gradio_api/runs", "/gradio_api/process_recording", "/gradio_api/mcp",
          "/gradio_api/stream", "/gradio_api/run", "/gradio_api/api", "/gradio_api/call", "/gradio_api/deep_link",
          "/gradio_api/vibe", "/redoc")
CLOSED_PREFIXES = ("/gradio_api/proxy=",)


class Refusal(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def is_closed(path: str) -> bool:
    path = "/" + path.lstrip("/")
    return any(path == p or path.startswith(p + "/") for p in CLOSED) or path.startswith(CLOSED_PREFIXES)


class _Exchange:
    """One request as the guard sees it: the body's bytes and deadline, and whether a response went out."""

    def __init__(self, scope, receive, send, limit: int, seconds: float):
        self.scope, self._receive, self._send = scope, receive, send
        self.limit, self.seconds = limit, seconds
        self.deadline = time.monotonic() + seconds
        self.size = 0
        self.body_done = False
        self.started = False           # a response has started (ours or the app's)
        self.ours = False              # ... and it is ours (a refusal)
        self.refused: Refusal | None = None
        self.gone = False              # the client disconnected

    async def receive(self):
        if self.refused is not None:
            return {"type": "http.disconnect"}
        if self.body_done:             # after the body: the app listens for a disconnect, for as long as it likes
            message = await self._receive()
        else:
            try:
                message = await asyncio.wait_for(self._receive(), max(0.001, self.deadline - time.monotonic()))
            except asyncio.TimeoutError:
                await self.refuse(Refusal(408, f"the request body did not arrive within {self.seconds:.0f} s",
                                          {"connection": "close"}))
                return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                await self.refuse(Refusal(413, f"the request body is too large (the limit is {self.limit:,} bytes)",
                                          {"connection": "close"}))
                return {"type": "http.disconnect"}
            if not message.get("more_body", False):
                self.body_done = True
        elif message["type"] == "http.disconnect":
            self.gone = True
        return message

    async def read_body(self) -> bytes:
        chunks = []
        while not self.body_done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise Refusal(499, "the client went away before sending its body")
            chunks.append(message.get("body", b""))
        return b"".join(chunks)

    async def send(self, message):
        if self.ours:
            return                     # we answered already: the app's response is dropped
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def refuse(self, refusal: Refusal) -> None:
        """Answer with `refusal` (unless a response has started) and log one line."""
        if self.refused is not None:
            return
        self.refused = refusal
        _log_refusal(self.scope, refusal)
        if self.started or refusal.status == 499:
            return
        self.started = self.ours = True
        body = json.dumps({"detail": refusal.message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(k.encode(), str(v).encode()) for k, v in refusal.headers.items()]
        try:
            await self._send({"type": "http.response.start", "status": refusal.status, "headers": headers})
            await self._send({"type": "http.response.body", "body": body})
        except Exception:              # the client is gone: nothing to tell it
            pass


def _log_refusal(scope, refusal: Refusal) -> None:
    path = scope.get("path", "")[:120]
    log.info("%s %s from %s: %s %s", scope.get("method"), path, client_key(scope), refusal.status, refusal.message)


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""


class RequestGuard:
    """ASGI middleware, outermost (`app.add_middleware(RequestGuard, ...)` last); see the module docstring.

    `blocks` (set once the chat is built) gives the chat's functions, to check events against.
    """

    def __init__(self, app, limits: ClientLimits | None = None, holder=None):
        self.app = app
        self.limits = limits or ClientLimits()
        self.holder = holder            # an object whose .blocks is the chat's gr.Blocks

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "")
        upload = method == "POST" and path.endswith(UPLOAD_ROUTE)
        exchange = _Exchange(scope, receive, send, MAX_REQUEST_BYTES if upload else MAX_BODY_BYTES,
                             UPLOAD_SECONDS if upload else BODY_SECONDS)
        try:
            if is_closed(path):
                raise Refusal(404, "not found")
            declared = _header(scope, b"content-length")
            if declared.isdigit() and int(declared) > exchange.limit:
                raise Refusal(413, f"the request body is too large (the limit is {exchange.limit:,} bytes)",
                              {"connection": "close"})
            key = client_key(scope)
            if method == "POST" and path == EVENT_ROUTE:
                body = await exchange.read_body()
                if exchange.refused is not None:
                    return
                self._check_event(body)
                try:
                    self.limits.check_chat(key, getattr(self.holder, "blocks", None))
                except TooMany as exc:
                    raise Refusal(429, str(exc), {"retry-after": exc.retry_after}) from None
                await self._call(scope, _replay(body, exchange), exchange)
            elif method == "POST" and path == API_ASK:
                try:
                    async with self.limits.api_slot(key):
                        await self._call(scope, exchange.receive, exchange)
                except TooMany as exc:
                    raise Refusal(429, str(exc), {"retry-after": exc.retry_after}) from None
            else:
                await self._call(scope, exchange.receive, exchange)
        except Refusal as refusal:
            await exchange.refuse(refusal)

    async def _call(self, scope, receive, exchange: _Exchange) -> None:
        try:
            await self.app(scope, receive, exchange.send)
        except Exception as exc:
            # The client's doing (it went away, or we refused its body): one line, no traceback.
            if exchange.gone or exchange.refused is not None or type(exc).__name__ == "ClientDisconnect":
                if exchange.refused is None:
                    log.info("%s %s from %s: the client went away mid-request (%s)", scope.get("method"),
                             scope.get("path", "")[:120], client_key(scope), type(exc).__name__)
                return
            raise

    def _check_event(self, raw: bytes) -> None:
        """A chat event must be JSON naming one of this page's functions with as many values as its inputs."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal(422, "the event is not valid UTF-8") from None
        if json_depth(text) > MAX_EVENT_DEPTH:
            raise Refusal(422, f"the event nests arrays/objects more than {MAX_EVENT_DEPTH} deep")
        try:
            data = json.loads(text)
        except ValueError:             # not JSON, or an integer over Python's int-string limit
            raise Refusal(422, "the event is not valid JSON (or holds a number too long to read)") from None
        if not isinstance(data, dict):
            raise Refusal(422, "the event must be a JSON object")
        blocks = getattr(self.holder, "blocks", None)
        fns = getattr(blocks, "fns", None)
        if fns is None:
            return
        fn_index = data.get("fn_index")
        if type(fn_index) is not int or fn_index not in fns:
            raise Refusal(404, f"no such function on this page: fn_index {str(fn_index)[:20]}")
        values = data.get("data")
        wanted = len(fns[fn_index].inputs)
        if not isinstance(values, list) or len(values) != wanted:
            raise Refusal(422, f"this function takes {wanted} values in 'data'")
        if not isinstance(data.get("session_hash"), str) or not 0 < len(data["session_hash"]) <= 100:
            raise Refusal(422, "the event needs a 'session_hash' of 1 to 100 characters")


def _replay(body: bytes, exchange: _Exchange):
    """A receive() that gives the app the body already read, then listens for a disconnect."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await exchange.receive()

    return receive


def bounded_protocol():
    """uvicorn's h11 protocol, closing a connection that does not send a whole request line and headers
    within HEADER_SECONDS of connecting (or of its previous response), or that goes on sending a body
    nobody reads after its response. uvicorn itself only times out idle keep-alive connections."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class BoundedH11Protocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self):
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc):
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _arm(self):
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(HEADER_SECONDS, self._timed_out)

        def _timed_out(self):
            if self.transport.is_closing():
                return
            answered = self.cycle is not None and self.cycle.response_complete
            if self.conn.their_state is h11.IDLE or (answered and self.conn.their_state is not h11.DONE):
                self.transport.close()

    return BoundedH11Protocol
