"""A participant's own DIP client, written from the published facts alone (dip-facts s6 and s5a).

It shares no code with OpenDIP's signing: plain `cryptography` and `httpx`, the
signed string built the way the public third-party clients build it, METHOD
upper-case: `POST;` + lower-cased full URL + `;` + date + `;` + content hash.
Tests use it so that OpenDIP is held to the published protocol, not to itself.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def signature_headers(method: str, url: str, body: bytes, cert_pem: bytes, key_pem: bytes) -> dict[str, str]:
    """The four X-DIP-* headers over `METHOD;url-lower-case;date;hash`."""
    key = serialization.load_pem_private_key(key_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    date = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    signed = f"{method.upper()};{url.lower()};{date};{digest}".encode()
    return {
        "X-DIP-Signature-Date": date,
        "X-DIP-Content-Hash": digest,
        "X-DIP-Signature-Certificate": base64.b64encode(cert_pem).decode(),
        "X-DIP-Signature": base64.b64encode(key.sign(signed, padding.PKCS1v15(), hashes.SHA256())).decode(),
    }


class ThirdPartyClient:
    """Sends signed JSON to a DIP as a participant's integration engineer would."""

    def __init__(self, base_url: str, api_key: str, cert: Path, key: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.cert_pem = cert.read_bytes()
        self.key_pem = key.read_bytes()

    def post(self, path: str, document: Any, *, raw: bytes | None = None) -> httpx.Response:
        body = raw if raw is not None else orjson.dumps(document)
        url = self.base_url + path
        headers = signature_headers("POST", url, body, self.cert_pem, self.key_pem)
        headers.update({"X-API-Key": self.api_key, "Content-Type": "application/json"})
        return httpx.post(url, content=body, headers=headers, timeout=30)

    def send(self, interface_id: str, *payloads: dict[str, Any]) -> httpx.Response:
        return self.post(f"/dip-channel/{interface_id}", [{"payload": p} for p in payloads])


def codes(response: httpx.Response) -> list[str]:
    """The code of each messageArray line: the text before ` - `."""
    return [str(line["message"]).split(" - ", 1)[0] for line in response.json()["messageArray"]]
