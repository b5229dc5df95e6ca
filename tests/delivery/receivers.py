"""Real webhook receivers for delivery tests: aiohttp servers on 127.0.0.1 that misbehave on cue.

Each receiver verifies the hub's X-DIP signature headers with the real
SignatureVerifier (answering 401 when they do not verify, as a recipient
would), records every request, and answers with the next scripted behaviour:
a reply (201, 207 with per-message codes, 400, 429 with Retry-After, 500,
garbage), a hang, a dropped connection, a truncated body, or a slow answer.
It runs on the test's own event loop, next to the worker under test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from opendip.errors import AuthenticationError
from opendip.pki.signing import SignatureVerifier


@dataclass(frozen=True)
class Reply:
    """Answer `status`; body None means a StandardResponse with MSG0000 for every message."""

    status: int = 201
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PerMessage:
    """A StandardResponse naming each transaction's code; `code_for` returning None omits it."""

    code_for: Callable[[str], str | None]
    status: int = 207


@dataclass(frozen=True)
class Hang:
    """Answer nothing until the test calls `release_hangs()` or the receiver closes, then 503."""


@dataclass(frozen=True)
class Close:
    """Drop the connection without answering."""


@dataclass(frozen=True)
class Truncate:
    """Start a 201 answer promising more bytes than are sent, then drop the connection."""


@dataclass(frozen=True)
class Slow:
    seconds: float
    then: Behaviour = field(default_factory=Reply)


Behaviour = Reply | PerMessage | Hang | Close | Truncate | Slow

CODE_TEXT = {
    "MSG0000": "MSG0000 - Success",
    "MSG1001": "MSG1001 - Schema Failure",
    "MSG4029": "MSG4029 - Too Many Requests",
    "MSG5000": "MSG5000 - Internal Server Error",
    "MSG5003": "MSG5003 - Service Unavailable",
}


def standard_response(codes: Mapping[str, str]) -> bytes:
    items = [
        {"transactionID": tx, "message": CODE_TEXT.get(code, f"{code} - Test"), "help": f"help for {tx}"}
        for tx, code in codes.items()
    ]
    return orjson.dumps({"messageArray": items, "timestamp": "2026-11-25T09:30:00+00:00"})


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    signature_error: str | None
    items: list[dict[str, Any]]

    @property
    def transaction_ids(self) -> list[str]:
        return [item["payload"]["CommonBlock"]["D0"]["transactionID"] for item in self.items]


class Receiver:
    def __init__(self, verifier: SignatureVerifier, path: str = "/hook") -> None:
        self.verifier = verifier
        self.path = path
        self.default: Behaviour = Reply()
        self.requests: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: list[Behaviour] = []
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def script(self, *behaviours: Behaviour) -> Receiver:
        """Answer the next requests with these, in order, then with `default`."""
        self._script.extend(behaviours)
        return self

    def transaction_ids(self) -> list[str]:
        return [tx for request in self.requests for tx in request.transaction_ids]

    async def start(self) -> Receiver:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    def release_hangs(self) -> None:
        """End every hanging request (and every later one) with a 503: a failure the test decides the moment of."""
        self._released.set()

    async def close(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            await asyncio.sleep(0.01)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        error = None
        try:
            self.verifier.verify(request.method, str(request.url), request.headers, body)
        except AuthenticationError as exc:
            error = str(exc)
        try:
            items = orjson.loads(body)
        except orjson.JSONDecodeError:
            items = []
        record = Received(request.path, dict(request.headers), body, time.monotonic(), error, items)
        self.requests.append(record)
        if error is not None:
            return web.Response(status=401, text=error)
        behaviour = self._script.pop(0) if self._script else self.default
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request, record, behaviour)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, record: Received, behaviour: Behaviour) -> web.StreamResponse:
        if isinstance(behaviour, Slow):
            await asyncio.sleep(behaviour.seconds)
            return await self._answer(request, record, behaviour.then)
        if isinstance(behaviour, Hang):
            await self._released.wait()
            return web.Response(status=503)
        if isinstance(behaviour, Close):
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if isinstance(behaviour, Truncate):
            response = web.StreamResponse(status=201, headers={"Content-Length": "1000"})
            await response.prepare(request)
            await response.write(b'{"messageArray": [')
            assert request.transport is not None
            request.transport.close()
            return response
        if isinstance(behaviour, PerMessage):
            codes = {tx: code for tx in record.transaction_ids if (code := behaviour.code_for(tx)) is not None}
            return web.Response(status=behaviour.status, body=standard_response(codes), content_type="application/json")
        body = behaviour.body
        if body is None:
            body = standard_response(dict.fromkeys(record.transaction_ids, "MSG0000"))
        return web.Response(
            status=behaviour.status,
            body=body,
            headers=dict(behaviour.headers),
            content_type="application/json",
        )
