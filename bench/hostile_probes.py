"""The hostile requests of `bench_hostile.py memory`, each with the answers that count as right.

One round sends every probe once. A probe is named, belongs to one of the outside probe's categories (bad
input, authentication, admin and portal, webhooks, resilience) and lists the status codes a correct hub may
answer; the bench counts each probe's answers as right, wrong (another 4xx/2xx) or 5xx. Most probes carry
text that is new each round (random keys, paddings, lookups), so a cache keyed by client text would grow.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from common import REGS, MessageFactory

from opendip.messages.client import DipClient

CERTIFICATE = "X-DIP-Signature-Certificate"
OK, BAD, DENIED = frozenset({201}), frozenset({400}), frozenset({401})


@dataclass
class Context:
    client: DipClient
    factory: MessageFactory
    rng: random.Random
    base: str
    port: int
    operator_token: str


@dataclass(frozen=True)
class Probe:
    category: str
    name: str
    right: frozenset[int]
    send: Callable[[Context], int]


def _latin1(headers: dict[str, str]) -> dict[str, bytes]:
    return {name: value.encode("latin-1") for name, value in headers.items()}


def _raw(ctx: Context, head: bytes, body: bytes = b"") -> int:
    """Send bytes on a fresh socket and read the status code of the first answer (0: closed without one)."""
    with socket.create_connection(("127.0.0.1", ctx.port), timeout=30) as sock:
        with contextlib.suppress(OSError):  # the hub may answer and close before it has read everything
            sock.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            try:
                chunk = sock.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _send(ctx: Context, path: str, body: bytes) -> int:
    return ctx.client.request("POST", path, body).status_code


def valid(ctx: Context) -> int:
    return _send(ctx, "/dip-channel/IF-043", ctx.factory.body(1))


def deep(ctx: Context) -> int:
    nested = b'[{"payload":' + b'{"a":' * 300 + b'"x"' + b"}" * 300 + b"}]"  # past orjson's own depth limit
    return _send(ctx, "/dip-channel/IF-043", nested)


def malformed(ctx: Context) -> int:
    return _send(ctx, "/dip-channel/IF-043", b"[{" + os.urandom(200).hex().encode())


def unknown_keys(ctx: Context) -> int:
    keys = {f"k{ctx.rng.randrange(10**9)}": "v" for _ in range(300)}
    return _send(ctx, "/dip-channel/IF-043", orjson.dumps([{"payload": keys}]))


def nul_key(ctx: Context) -> int:
    body = b'[{"payload": {"k\\u0000": "' + os.urandom(8).hex().encode() + b'"}}]'
    return _send(ctx, "/dip-channel/IF-043", body)


def long_key(ctx: Context) -> int:
    keys = {f"{ctx.rng.randrange(10**9)}{'k' * 20_000}": "v"}
    return _send(ctx, "/dip-channel/IF-043", orjson.dumps([{"payload": keys}]))


def duplicate_keys(ctx: Context) -> int:
    return _send(ctx, "/validate/IF-043/ConnectionTypeChange", b'[{"payload": {"a": 1, "a": 2}}]')


def _status_message(ctx: Context) -> dict[str, str]:
    url = ctx.base + "/statusmessage"
    body = orjson.dumps([{"transactionID": os.urandom(8).hex()}])
    headers = ctx.client._signer.headers("POST", url, body)
    headers |= {"X-API-Key": ctx.client.credentials.api_key, "Content-Type": "application/json"}
    ctx.client._http.post(url, content=body, headers=headers)  # the original: its answer is not this probe's
    return headers | {"body": body.decode()}


def replayed(ctx: Context) -> int:
    headers = _status_message(ctx)
    body = headers.pop("body").encode()
    return ctx.client._http.post(ctx.base + "/statusmessage", content=body, headers=headers).status_code


def unknown_api_key(ctx: Context) -> int:
    headers = {"X-API-Key": os.urandom(16).hex(), "Content-Type": "application/json"}
    return ctx.client._http.post(ctx.base + "/dip-channel/IF-043", content=b"[]", headers=headers).status_code


def bad_certificate(ctx: Context) -> int:
    headers = {"X-API-Key": ctx.client.credentials.api_key, CERTIFICATE: os.urandom(900).hex()}
    headers["Content-Type"] = "application/json"
    return ctx.client._http.post(ctx.base + "/dip-channel/IF-043", content=b"[]", headers=headers).status_code


def odd_hash(ctx: Context) -> int:
    url = ctx.base + "/validate/IF-043/ConnectionTypeChange"
    headers = ctx.client._signer.headers("POST", url, b"[]")
    headers["X-DIP-Content-Hash"] = "\u00e7" * ctx.rng.randrange(1, 40)
    headers |= {"X-API-Key": ctx.client.credentials.api_key, "Content-Type": "application/json"}
    return ctx.client._http.post(url, content=b"[]", headers=_latin1(headers)).status_code


def padded_certificate(ctx: Context) -> int:
    """A public certificate padded with blank lines: a new header text each round for the same certificate,
    signing a body that is then tampered with, so the right answer is a refused signature."""
    url = ctx.base + "/validate/IF-043/ConnectionTypeChange"
    headers = ctx.client._signer.headers("POST", url, b"[]")
    pem = base64.b64decode(headers[CERTIFICATE])
    headers[CERTIFICATE] = base64.b64encode(b"\n" * ctx.rng.randrange(20_000, 40_000) + pem).decode()
    headers |= {"X-API-Key": ctx.client.credentials.api_key, "Content-Type": "application/json"}
    return ctx.client._http.post(url, content=b"[{}]", headers=headers).status_code


def _operator(ctx: Context) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.operator_token}"}


def audit_without_token(ctx: Context) -> int:
    return ctx.client._http.get(ctx.base + f"/admin/audit?limit=\u0661{ctx.rng.randrange(10**6)}").status_code


def audit_odd_digits(ctx: Context) -> int:
    url = ctx.base + f"/admin/audit?limit=\u0661{ctx.rng.randrange(10**6)}"
    return ctx.client._http.get(url, headers=_operator(ctx)).status_code


def admin_nul(ctx: Context) -> int:
    url = ctx.base + f"/admin/participants/{ctx.rng.randrange(10**6)}%00/keys"
    return ctx.client._http.get(url, headers=_operator(ctx)).status_code


def portal_huge_page(ctx: Context) -> int:
    url = ctx.base + f"/portal/messages?page={'9' * ctx.rng.randrange(1, 60)}&q={os.urandom(40).hex()}"
    return ctx.client._http.get(url, headers=_operator(ctx)).status_code


def portal_calendar_end(ctx: Context) -> int:
    url = ctx.base + "/portal/messages?to=9999-12-31T23:59:59-14:00"
    return ctx.client._http.get(url, headers=_operator(ctx)).status_code


def portal_forged_cursor(ctx: Context) -> int:
    url = ctx.base + f"/portal/journal?after={os.urandom(12).hex()}.{'A' * 22}"
    return ctx.client._http.get(url, headers=_operator(ctx)).status_code


def journal_lookup(ctx: Context) -> int:
    url = f"/journal?transactionID={os.urandom(30).hex()}"
    return ctx.client.request("GET", url).status_code


def webhook_self(ctx: Context) -> int:
    host = ctx.rng.choice(("127.1", "0.0.0.0", "2130706433", "0x7f000001"))
    return ctx.client.set_webhook("IF-043", REGS, f"http://{host}:{ctx.port}/x{ctx.rng.randrange(10**6)}").status_code


def webhook_metadata(ctx: Context) -> int:
    host = ctx.rng.choice(("169.254.169.254", "metadata.google.internal", "[fd00:ec2::254]"))
    return ctx.client.set_webhook("IF-043", REGS, f"http://{host}/latest/{os.urandom(6).hex()}").status_code


def huge_declared_body(ctx: Context) -> int:
    head = (
        f"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-API-Key: {ctx.client.credentials.api_key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
    ).encode()
    return _raw(ctx, head, b"[" * 1000)


def huge_header(ctx: Context) -> int:
    """One 100 KB header: past any sane header limit (the right answer is 431, then the socket closed)."""
    head = b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Padding: " + os.urandom(50_000).hex().encode() + b"\r\n\r\n"
    return _raw(ctx, head)


PROBES = (
    Probe("valid", "valid IF-043 send", OK, valid),
    Probe("bad input", "nested 300 deep", BAD, deep),
    Probe("bad input", "malformed JSON", BAD, malformed),
    Probe("bad input", "300 unknown keys", BAD, unknown_keys),
    Probe("bad input", "NUL in a key", BAD, nul_key),
    Probe("bad input", "20,000-character unknown key", BAD, long_key),
    Probe("bad input", "duplicate JSON keys", BAD, duplicate_keys),
    Probe("authentication", "replayed signed status message", DENIED, replayed),
    Probe("authentication", "unknown API key", DENIED, unknown_api_key),
    Probe("authentication", "garbage certificate header", DENIED, bad_certificate),
    Probe("authentication", "non-ASCII content hash", frozenset({400, 401}), odd_hash),
    Probe("authentication", "padded certificate, tampered body", DENIED, padded_certificate),
    Probe("admin and portal", "admin without token", DENIED, audit_without_token),
    Probe("admin and portal", "admin limit in Arabic-Indic digits", BAD, audit_odd_digits),
    Probe("admin and portal", "NUL in an admin path", frozenset({400, 404}), admin_nul),
    Probe("admin and portal", "portal page number of 60 digits", frozenset({200, 400}), portal_huge_page),
    Probe("admin and portal", "portal bound at the calendar's end", frozenset({200, 400}), portal_calendar_end),
    Probe("admin and portal", "forged portal cursor", BAD, portal_forged_cursor),
    Probe("admin and portal", "journal lookup of an unknown transaction", frozenset({200, 404}), journal_lookup),
    Probe("webhooks", "webhook at this hub (127.1, 0.0.0.0, decimal, hex)", BAD, webhook_self),
    Probe("webhooks", "webhook at a cloud metadata address", BAD, webhook_metadata),
    Probe("resilience", "declared 1 GB body", frozenset({413}), huge_declared_body),
    Probe("resilience", "100 KB request header", frozenset({431}), huge_header),
)
