"""A participant's webhook written from the published facts alone (dip-facts s5, s5a, s6).

Standard library HTTP server plus `cryptography`; none of OpenDIP's code. It
checks each delivery the way the third-party clients sign: the content hash
over the exact body, then the RSA PKCS#1 v1.5 SHA-256 signature over
`POST;` + its own callback URL lower-cased + `;date;hash`, by the certificate
sent, which must be issued by the hub's CA. Each path answers a script of
HTTP statuses (the last one repeats), so tests can play a recipient that is
gone (404) or briefly unavailable (503).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


@dataclass(frozen=True)
class Seen:
    path: str
    status: int
    verified: bool  # the upper-case POST form verified
    lower_case_verified: bool  # the lower-case post form verified (it must not: a signature is one string)
    transaction_ids: tuple[str, ...]
    headers: dict[str, str]


class FactReceiver:
    def __init__(self, ca_pem: Path) -> None:
        self.ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
        self.scripts: dict[str, list[int]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.handle(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k: v for k, v in request.headers.items()}
        url = self.url(request.path)
        verified = self._verifies("POST", url, headers, body)
        lower = self._verifies("post", url, headers, body)
        items = orjson.loads(body) if body else []
        txs = tuple(str(i["payload"]["CommonBlock"]["D0"]["transactionID"]) for i in items)
        with self._lock:
            script = self.scripts.setdefault(request.path, [201])
            status = script.pop(0) if len(script) > 1 else script[0]
            if not verified:
                status = 401
            self.seen.append(Seen(request.path, status, verified, lower, txs, headers))
        answer = {
            "messageArray": [
                {"transactionID": tx, "message": "RCP0000 - Message Success" if status == 201 else "RCP1000"}
                for tx in txs
            ],
            "timestamp": "2026-12-01T00:00:00+00:00",
        }
        data = orjson.dumps(answer)
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _verifies(self, method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
        try:
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if headers.get("X-DIP-Content-Hash") != digest:
                return False
            cert = x509.load_pem_x509_certificate(base64.b64decode(headers["X-DIP-Signature-Certificate"]))
            ca_key = self.ca.public_key()
            assert isinstance(ca_key, rsa.RSAPublicKey)
            ca_key.verify(
                cert.signature,
                cert.tbs_certificate_bytes,
                padding.PKCS1v15(),
                cert.signature_hash_algorithm or hashes.SHA256(),
            )
            key = cert.public_key()
            assert isinstance(key, rsa.RSAPublicKey)
            signed = f"{method};{url.lower()};{headers['X-DIP-Signature-Date']};{digest}".encode()
            key.verify(base64.b64decode(headers["X-DIP-Signature"]), signed, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, KeyError, ValueError):
            return False

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
