"""The four connectivity-proving checks of the MHHS environment approach, one function each.

Each returns a Check: passed or not, one sentence a participant's engineer
can act on, and the evidence (fingerprints, URLs, HTTP status, transaction
IDs) that goes into the dated record.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from cryptography import x509
from sqlalchemy import Connection, or_, select

from opendip.core.responses import dip_timestamp
from opendip.db.models import messages
from opendip.delivery.client import WebhookClient
from opendip.delivery.outcome import Verdict, classify
from opendip.messages import ids
from opendip.participants.urls import WebhookPolicy, WebhookUrlRefused
from opendip.pki.signing import Signer
from opendip.pki.trust import TrustStore

PROVING_INTERFACE = "IF-043"
PROVING_NOTE = "OpenDIP connectivity proving: a test message; no action is needed"


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail, "evidence": self.evidence}


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_certificate(rows: list[dict[str, Any]], trust: TrustStore, now: float) -> Check:
    """At least one registered certificate that is unrevoked, in date and issued by a trusted CA."""
    name = "certificate valid and trusted"
    if not rows:
        return Check(name, False, "no certificate is registered for this DIP ID")
    problems: list[str] = []
    for row in sorted(rows, key=lambda r: r["not_after"], reverse=True):
        label = row["fingerprint"][:16]
        if row["revoked_at"] is not None:
            problems.append(f"{label} revoked ({row['revocation_reason'] or 'no reason'})")
            continue
        if row["not_after"] <= now:
            problems.append(f"{label} expired at {_day(row['not_after'])}")
            continue
        if row["not_before"] > now:
            problems.append(f"{label} not valid before {_day(row['not_before'])}")
            continue
        certificate = x509.load_pem_x509_certificate(row["pem"].encode())
        if trust.issuer_for(certificate) is None:
            problems.append(f"{label} issued by {row['issuer']}, which the hub does not trust")
            continue
        days = (row["not_after"] - now) / 86400
        return Check(
            name,
            True,
            f"certificate {label} is trusted and valid until {_day(row['not_after'])} ({days:.0f} days)",
            {"fingerprint": row["fingerprint"], "notAfter": row["not_after"], "issuer": row["issuer"]},
        )
    return Check(name, False, "no usable certificate: " + "; ".join(problems), {"problems": problems})


async def _handshake(url: str, context: ssl.SSLContext, timeout: float) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        server = x509.load_der_x509_certificate(der) if der else None
        return {
            "tlsVersion": ssl_object.version() if ssl_object else None,
            "serverCertificate": server.subject.rfc4514_string() if server else None,
            "serverCertificateNotAfter": server.not_valid_after_utc.timestamp() if server else None,
        }
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), timeout)


async def check_webhooks_tls(urls: list[str], policy: WebhookPolicy, context: ssl.SSLContext, timeout: float) -> Check:
    """Every configured webhook is https, passes the URL guard, and completes a mutual-TLS handshake."""
    name = "webhook reachable over TLS"
    if not urls:
        return Check(name, False, "no webhook is configured (pubconfig or a default webhook)")
    results: dict[str, Any] = {}
    failures: list[str] = []
    for url in urls:
        try:
            policy.check(url)
        except WebhookUrlRefused as exc:
            failures.append(f"{url}: {exc.reason}")
            results[url] = {"error": exc.reason}
            continue
        if urlsplit(url).scheme != "https":
            failures.append(f"{url} is not TLS (http)")
            results[url] = {"error": "not https"}
            continue
        try:
            results[url] = await _handshake(url, context, timeout)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            reason = f"TLS handshake failed: {type(exc).__name__}: {exc}"[:300]
            failures.append(f"{url}: {reason}")
            results[url] = {"error": reason}
    if failures:
        return Check(name, False, "; ".join(failures), {"webhooks": results})
    return Check(name, True, f"{len(urls)} webhook(s) completed a mutual-TLS handshake", {"webhooks": results})


def proving_message(hub_dip_id: str, recipient: str, environment: str, now: float) -> tuple[str, bytes]:
    """A well-formed, signed-able message array of one, marked in subText as a test."""
    transaction = ids.transaction_id(PROVING_INTERFACE, hub_dip_id, "DIP", now)
    stamp = dip_timestamp(now)
    payload = {
        "CommonBlock": {
            "S0": {"interfaceID": PROVING_INTERFACE, "schemaVersion": "011", "eventCode": "[ConnectionTypeChange]"},
            "S1": {
                "environmentTag": environment,
                "subText": PROVING_NOTE,
                "senderUniqueReference": f"S-{PROVING_INTERFACE}-{hub_dip_id}-DIP-{stamp[:10].replace('-', '')}-"
                + transaction[-12:],
                "senderTimestamp": stamp,
                "senderDIPID": hub_dip_id,
                "senderRoleID": "DIP",
                "senderCorrelationID": None,
                "DIPConnectionProviderID": None,
            },
            "A0": {"primaryRecipients": [recipient], "secondaryRecipients": [], "always": []},
            "D0": {
                "transactionID": transaction,
                "transactionTimestamp": stamp,
                "publicationID": "PUB-000",
                "initialCorrelationID": ids.correlation_id(now),
                "replayIndicator": False,
                "serviceTicketURL": None,
            },
        },
        "CustomBlock": {},
    }
    return transaction, orjson.dumps([{"payload": payload}])


async def check_test_message(
    url: str | None, client: WebhookClient, signer: Signer, message: tuple[str, bytes], timeout: float
) -> Check:
    """POST one signed test message; it must come back acknowledged (201, or 207 naming it MSG0000)."""
    name = "test message sent and acknowledged"
    if url is None:
        return Check(name, False, "no webhook to send the test message to")
    transaction, body = message
    headers = signer.headers("POST", url, body)
    headers["Content-Type"] = "application/json"
    started = time.time()
    result = await client.post(url, body, headers, timeout)
    took = round((time.time() - started) * 1000, 1)
    outcome = classify(result, [transaction]).outcomes[transaction]
    evidence = {"url": url, "transactionID": transaction, "httpStatus": result.status, "durationMs": took}
    if outcome.verdict is Verdict.DELIVERED:
        return Check(name, True, f"{transaction} acknowledged with HTTP {result.status} in {took} ms", evidence)
    reason = outcome.reason or result.error or "no acknowledgement"
    return Check(name, False, f"{transaction} not acknowledged: {reason}", {**evidence, "reason": reason})


def latest_received(conn: Connection, dip_id: str, since: float) -> dict[str, Any] | None:
    m = messages.c
    query = (
        select(m.transaction_id, m.interface_id, m.received_at, m.sender_dip_id)
        .where(or_(m.sender_dip_id == dip_id, m.connection_provider_id == dip_id), m.received_at >= since)
        .order_by(m.received_at.desc())
        .limit(1)
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def check_received(found: dict[str, Any] | None, since: float) -> Check:
    name = "message received from it"
    if found is None:
        return Check(name, False, f"no message from this DIP ID was accepted since {_day(since)}")
    return Check(
        name,
        True,
        f"{found['transaction_id']} ({found['interface_id']}) accepted at {_day(found['received_at'])}",
        {"transactionID": found["transaction_id"], "receivedAt": found["received_at"]},
    )
