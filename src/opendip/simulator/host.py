"""The simulated participants' web server: one real webhook per participant, and a control API.

Each simulated participant has its own webhook URL (`/webhook/{DIPID}`) and its
own L4 status webhook (`/status/{DIPID}`); the hub signs every delivery and the
host checks the signature as a real participant must. The control API lets a
tester read and change behaviours while the market runs:

    GET    /control/behaviours                the default and every override
    GET    /control/behaviours/{DIPID}        one participant's behaviour
    PUT    /control/behaviours/{DIPID}        change it (JSON: only the keys to change)
    DELETE /control/behaviours/{DIPID}        back to the default
    GET    /control/mpans/{MPAN}              what the market state holds for an MPAN
    GET    /control/participants              the simulated cast
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from opendip.errors import AuthenticationError
from opendip.pki.signing import SignatureVerifier
from opendip.pki.trust import TrustStore
from opendip.simulator.behaviour import BehaviourError
from opendip.simulator.engine import Simulation


class SimulatorHost:
    def __init__(
        self, simulation: Simulation, trust: TrustStore | None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.simulation = simulation
        self.host = host
        self.port = port
        self._verifier = SignatureVerifier(trust) if trust is not None else None
        self._runner: web.AppRunner | None = None
        self.status_received = 0
        self.unverified = 0
        # Who else wants to see each delivery and L4 status (the scenario runner's evidence).
        self.on_delivery: Callable[[str, list[Any]], None] | None = None
        self.on_status: Callable[[str, list[Any]], None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def webhook_url(self, dip_id: str) -> str:
        return f"{self.base_url}/webhook/{dip_id}"

    def status_url(self, dip_id: str) -> str:
        return f"{self.base_url}/status/{dip_id}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/webhook/{dip_id}", self._webhook)
        app.router.add_post("/status/{dip_id}", self._status)
        app.router.add_get("/control/behaviours", self._behaviours)
        app.router.add_get("/control/behaviours/{dip_id}", self._behaviour)
        app.router.add_put("/control/behaviours/{dip_id}", self._set_behaviour)
        app.router.add_delete("/control/behaviours/{dip_id}", self._reset_behaviour)
        app.router.add_get("/control/mpans/{mpan}", self._mpan)
        app.router.add_get("/control/participants", self._participants)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _verified(self, request: web.Request) -> bytes | web.Response:
        body = await request.read()
        if self._verifier is not None:
            try:
                self._verifier.verify(request.method, str(request.url), request.headers, body)
            except AuthenticationError as exc:
                self.unverified += 1
                return _json(
                    401, {"messageArray": [{"message": "RCP9999 - Message Signature Invalid", "help": str(exc)}]}
                )
        return body

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        dip_id = request.match_info["dip_id"]
        if dip_id not in self.simulation.simulated:
            return _json(404, {"error": f"{dip_id} is not a simulated participant"})
        body = await self._verified(request)
        if isinstance(body, web.Response):
            return body
        try:
            messages = orjson.loads(body)
        except orjson.JSONDecodeError:
            messages = None
        if not isinstance(messages, list):
            return _json(400, {"messageArray": [{"message": "RCP1001 - Schema Failure", "help": "$: an array"}]})
        if self.on_delivery is not None:
            self.on_delivery(dip_id, messages)
        status, answer = await self.simulation.deliver(dip_id, messages)
        return web.Response(status=status, body=answer, content_type="application/json")

    async def _status(self, request: web.Request) -> web.StreamResponse:
        """A simulated sender's L4 status webhook: it takes every status the hub passes on."""
        body = await self._verified(request)
        if isinstance(body, web.Response):
            return body
        try:
            items = orjson.loads(body)
        except orjson.JSONDecodeError:
            items = []
        items = items.get("messageArray", []) if isinstance(items, dict) else items
        self.status_received += len(items) if isinstance(items, list) else 0
        if self.on_status is not None and isinstance(items, list):
            self.on_status(request.match_info["dip_id"], items)
        answer = [{"transactionID": i.get("transactionID"), "message": "RCP0000 - Message Success"} for i in items]
        return _json(201, {"messageArray": answer})

    async def _behaviours(self, request: web.Request) -> web.Response:
        return _json(200, self.simulation.book.to_dict())

    async def _behaviour(self, request: web.Request) -> web.Response:
        return _json(200, self.simulation.book.of(request.match_info["dip_id"]).to_dict())

    async def _set_behaviour(self, request: web.Request) -> web.Response:
        dip_id = request.match_info["dip_id"]
        if dip_id not in self.simulation.simulated:
            return _json(404, {"error": f"{dip_id} is not a simulated participant"})
        try:
            changes = orjson.loads(await request.read())
            behaviour = self.simulation.book.set(dip_id, changes)
        except orjson.JSONDecodeError as exc:
            return _json(400, {"error": f"$: not JSON ({exc})"})
        except BehaviourError as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, behaviour.to_dict())

    async def _reset_behaviour(self, request: web.Request) -> web.Response:
        dip_id = request.match_info["dip_id"]
        self.simulation.book.reset(dip_id)
        return _json(200, self.simulation.book.of(dip_id).to_dict())

    async def _mpan(self, request: web.Request) -> web.Response:
        point = self.simulation.market.state.point(request.match_info["mpan"])
        if point is None:
            return _json(404, {"error": "REG0000 - MPAN Invalid or does not exist"})
        return _json(200, dataclasses.asdict(point))

    async def _participants(self, request: web.Request) -> web.Response:
        cast = [dataclasses.asdict(p) for p in self.simulation.market.state.participants.values()]
        return _json(200, {"participants": cast})


def _json(status: int, document: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(document), content_type="application/json")
