"""Each client's fair share of the answering, for the JSON API and the chat alike.

A client is its address as the server sees it (an IPv6 client by its /64 network); behind a reverse proxy
on the same machine, uvicorn takes it from X-Forwarded-For (it trusts 127.0.0.1 only, FORWARDED_ALLOW_IPS).

- API: at most `running` of a client's requests are inside the app at once; up to `waiting` more wait
  for one of them to finish; beyond that a 429 with Retry-After.
- Chat: at most `pending` of a client's events in Gradio's queue (waiting or running); one more is a 429
  with Retry-After before it takes a queue slot, so one client can no longer fill the queue for everyone.

QA_CLIENT_RUNNING, QA_CLIENT_WAITING and QA_CLIENT_PENDING change the numbers; QA_CLIENT_LIMITS=0 turns the
limits off (to measure without them).
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass

RUNNING = 2          # a client's answers computed at once (of the server's QA_WEB_CONCURRENCY, default 4)
WAITING = 16         # a client's API requests waiting for one of those
PENDING = 4          # a client's chat events in Gradio's queue, waiting or running
RETRY_AFTER = 1      # seconds: an answer takes 60-300 ms, so a slot is usually free by then


class TooMany(Exception):
    """The client already has its share in flight."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER):
        super().__init__(message)
        self.retry_after = retry_after


def client_key(scope) -> str:
    """The client's address (an IPv6 address by its /64 network: one machine usually holds many)."""
    client = scope.get("client") or ("unknown", 0)
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _env_int(name: str, default: int, least: int = 1) -> int:
    try:
        return max(least, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass
class _Client:
    running: asyncio.Semaphore
    queued: int = 0      # inside api_slot: waiting or running


class ClientLimits:
    def __init__(self, running: int | None = None, waiting: int | None = None, pending: int | None = None,
                 enabled: bool | None = None):
        self.running = running or _env_int("QA_CLIENT_RUNNING", RUNNING)
        self.waiting = _env_int("QA_CLIENT_WAITING", WAITING, least=0) if waiting is None else waiting
        self.pending = pending or _env_int("QA_CLIENT_PENDING", PENDING)
        if enabled is None:
            enabled = os.environ.get("QA_CLIENT_LIMITS", "1").strip().lower() not in ("0", "false", "no", "off")
        self.enabled = enabled
        self._clients: dict[str, _Client] = {}
        self.refused = 0

    @asynccontextmanager
    async def api_slot(self, key: str):
        """Hold one of the client's API slots for the request; TooMany when it has too many waiting."""
        if not self.enabled:
            yield
            return
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = _Client(asyncio.Semaphore(self.running))
        if client.queued >= self.running + self.waiting:
            self.refused += 1
            raise TooMany(f"too many requests from this client at once (at most {self.running} answered and "
                          f"{self.waiting} waiting); retry shortly")
        client.queued += 1
        try:
            async with client.running:
                yield
        finally:
            client.queued -= 1
            if client.queued == 0:
                self._clients.pop(key, None)

    def check_chat(self, key: str, blocks) -> None:
        """TooMany when the client already has `pending` events in the chat's queue (waiting or running)."""
        if not self.enabled or blocks is None:
            return
        queue = getattr(blocks, "_queue", None)
        events = getattr(queue, "event_ids_to_events", {}) if queue is not None else {}
        mine = 0
        for event in list(events.values()):
            request = getattr(event, "request", None)
            scope = getattr(request, "scope", None)
            if scope is not None and client_key(scope) == key and not getattr(event, "closed", False):
                mine += 1
        if mine >= self.pending:
            self.refused += 1
            raise TooMany(f"this client already has {mine} questions waiting in the chat (at most "
                          f"{self.pending}); wait for their answers")
