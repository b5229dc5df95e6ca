"""A signing DIP client: what a participant's system does to call the hub (CLI, simulator, tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from opendip.pki.signing import Signer


@dataclass(frozen=True)
class Credentials:
    dip_id: str
    role: str
    api_key: str
    cert: Path
    key: Path
    ca: Path

    @classmethod
    def load(cls, path: Path) -> Credentials:
        data = orjson.loads(path.read_bytes())
        return cls(
            data["dip_id"],
            data["role"],
            data["api_key"],
            Path(data["cert"]),
            Path(data["key"]),
            Path(data["ca"]),
        )

    def signer(self) -> Signer:
        return Signer.from_files(self.cert, self.key)


class DipClient:
    """Signs every request as dip-facts section 6 describes and sends it with the participant's API key."""

    def __init__(self, base_url: str, credentials: Credentials, *, timeout: float = 30.0, verify: Any = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self._signer = credentials.signer()
        self._http = httpx.Client(timeout=timeout, verify=verify)

    def request(self, method: str, path: str, body: bytes = b"") -> httpx.Response:
        url = self.base_url + path
        headers = self._signer.headers(method, url, body)
        headers["X-API-Key"] = self.credentials.api_key
        headers["Content-Type"] = "application/json"
        return self._http.request(method, url, content=body, headers=headers)

    def send(self, interface_id: str, payloads: list[dict[str, Any]]) -> httpx.Response:
        body = orjson.dumps([{"payload": p} for p in payloads])
        return self.request("POST", f"/dip-channel/{interface_id}", body)

    def set_webhook(self, interface_id: str, recipient: str, callback_url: str, **limits: int) -> httpx.Response:
        body = orjson.dumps({"callbackURL": callback_url, **limits})
        return self.request("POST", f"/dip-channel/{interface_id}/pubconfig/{recipient}", body)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DipClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
