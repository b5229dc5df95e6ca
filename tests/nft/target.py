"""A participant's own DIP-compatible endpoint for the load generator to hit: real HTTP, real signature checks.

It can misbehave the two ways the generator must measure honestly: stall (hold
every request that arrives within a second of a trigger, then answer them all)
and block its event loop (which, sharing the loop with the generator, makes
the generator itself late).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from opendip.core.responses import dip_timestamp
from opendip.errors import AuthenticationError
from opendip.pki.signing import SignatureVerifier
from opendip.pki.trust import TrustStore


@dataclass
class Target:
    trust: TrustStore
    stall_after: int | None = None  # the request that starts a stall (1-based)
    stall_seconds: float = 1.0
    block_after: int | None = None  # the request whose handler blocks the loop
    block_seconds: float = 0.5
    received: int = 0
    refused: int = 0
    stall_started: float | None = None  # perf_counter when the stall began
    arrivals: list[float] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/dip-channel/{interface}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.perf_counter()
        self.received += 1
        self.arrivals.append(now)
        verifier = SignatureVerifier(self.trust, max_skew_seconds=300)
        try:
            verifier.verify(request.method, str(request.url), request.headers, body)
        except AuthenticationError as exc:
            self.refused += 1
            return web.json_response({"messageArray": [{"message": f"RCP9999 - {exc}"}]}, status=401)
        if self.received == self.stall_after:
            self.stall_started = now
        if self.stall_started is not None and now < self.stall_started + self.stall_seconds:
            await asyncio.sleep(self.stall_started + self.stall_seconds - now)
        if self.received == self.block_after:
            time.sleep(self.block_seconds)  # on purpose: the whole loop, generator included, stops
        items = [
            {"senderUniqueReference": i["payload"]["CommonBlock"]["S1"]["senderUniqueReference"],
             "message": "MSG0000 - Success"}
            for i in orjson.loads(body)
        ]  # fmt: skip
        answer = orjson.dumps({"messageArray": items, "timestamp": dip_timestamp()})
        return web.Response(body=answer, status=201, content_type="application/json")
