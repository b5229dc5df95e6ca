"""A participant's webhook: verifies the hub's signature and answers with its own StandardResponse.

Used by the demo (`make run`) and by end-to-end tests. Its behaviour can be
switched at run time to the faults a real recipient shows: errors, rejections,
slowness, hangs, garbage and dropped connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from opendip.core.responses import dip_timestamp
from opendip.errors import AuthenticationError
from opendip.pki.signing import SignatureVerifier
from opendip.pki.trust import TrustStore

Behaviour = Callable[[list[dict[str, Any]]], Any]


@dataclass
class Received:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    verify_error: str | None
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def transaction_ids(self) -> list[str]:
        return [m["payload"]["CommonBlock"]["D0"]["transactionID"] for m in self.messages]


def accept_all(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    """201 with MSG0000 for every message: a healthy recipient."""
    items = [
        {
            "transactionID": m["payload"]["CommonBlock"]["D0"]["transactionID"],
            "message": "MSG0000 - Success",
            "help": None,
        }
        for m in messages
    ]
    return 201, orjson.dumps({"messageArray": items, "timestamp": dip_timestamp()})


class WebhookReceiver:
    """An aiohttp server on 127.0.0.1 that records deliveries; `behaviour` decides each answer."""

    def __init__(self, trust: TrustStore | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._verifier = SignatureVerifier(trust, max_skew_seconds=300) if trust else None
        self.host = host
        self.port = port
        self.received: list[Received] = []
        self.behaviour: Behaviour = accept_all
        self._runner: web.AppRunner | None = None
        self._arrived = asyncio.Condition()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/webhook") -> str:
        return self.base_url + path

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def delivered_transactions(self) -> list[str]:
        return [t for r in self.received for t in r.transaction_ids]

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        """Wait until at least `count` messages arrived; return their transaction IDs."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.delivered_transactions()) >= count), timeout)
        return self.delivered_transactions()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        error = None
        if self._verifier is not None:
            try:
                self._verifier.verify(request.method, str(request.url), request.headers, body)
            except AuthenticationError as exc:
                error = str(exc)
        try:
            messages = orjson.loads(body)
        except orjson.JSONDecodeError:
            messages = []
        record = Received(request.path, dict(request.headers), body, error is None, error, messages)
        self.received.append(record)
        if error is not None:
            return web.Response(status=401, text=error)
        answer = self.behaviour(messages)
        if asyncio.iscoroutine(answer):
            answer = await answer
        async with self._arrived:
            self._arrived.notify_all()
        if isinstance(answer, web.StreamResponse):
            return answer
        status, payload = answer
        return web.Response(status=status, body=payload, content_type="application/json")
