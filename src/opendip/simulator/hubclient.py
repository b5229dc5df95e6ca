"""The simulated participants' side of the DIP API: signed sends and L4 statuses, asynchronously.

Many participants share one aiohttp session (one connection pool); each
request is signed with the sending participant's own key and carries its
own API key, exactly as a real participant's system would send it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from opendip.messages.client import Credentials
from opendip.pki.signing import Signer


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def items(self) -> list[dict[str, Any]]:
        items = self.body.get("messageArray") if isinstance(self.body, dict) else None
        return items if isinstance(items, list) else []


# A kept-alive connection is given up after this many idle seconds, well before the hub's own idle
# close (uvicorn's 5 s): reusing one the server is closing at that moment fails the request with a
# connection reset that says nothing about the hub.
IDLE_SECONDS = 2.0


class HubClient:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._identities: dict[str, tuple[Credentials, Signer]] = {}

    def add_identity(self, credentials: Credentials) -> None:
        self._identities[credentials.dip_id] = (credentials, credentials.signer())

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout, connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=IDLE_SECONDS)
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, as_dip_id: str, path: str, document: Any) -> Answer:
        if self._session is None:
            raise RuntimeError("HubClient.start() first")
        credentials, signer = self._identities[as_dip_id]
        body = orjson.dumps(document)
        url = self.base_url + path
        headers = signer.headers("POST", url, body)
        headers["X-API-Key"] = credentials.api_key
        headers["Content-Type"] = "application/json"
        async with self._session.post(url, data=body, headers=headers) as response:
            raw = await response.read()
        try:
            parsed = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            parsed = {"raw": raw[:500].decode("utf-8", "replace")}
        return Answer(response.status, parsed if isinstance(parsed, dict) else {"messageArray": parsed})

    async def send(self, as_dip_id: str, interface_id: str, payloads: list[dict[str, Any]]) -> Answer:
        return await self.post(as_dip_id, f"/dip-channel/{interface_id}", [{"payload": p} for p in payloads])

    async def statuses(self, as_dip_id: str, items: list[dict[str, Any]]) -> Answer:
        return await self.post(as_dip_id, "/statusmessage", items)
