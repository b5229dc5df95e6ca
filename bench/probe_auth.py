"""Probe category "authentication": keys, signatures and certificates a correct hub refuses (dip-facts section 6).

Each fault goes to three signed routes (a send, an L4 status message, a webhook change) with a body that is
otherwise valid, so the only reason to refuse is the one under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from common import REGS
from cryptography.hazmat.primitives import serialization
from probe_kit import Caller, Case, Got, got, raw_exchange, raw_got
from probe_payloads import batch, message

from opendip.pki.authority import CertificateAuthority
from opendip.pki.signing import Signer

CATEGORY = "authentication"
CERT, SIG, DATE, HASH = (
    "X-DIP-Signature-Certificate",
    "X-DIP-Signature",
    "X-DIP-Signature-Date",
    "X-DIP-Content-Hash",
)


def _signer(issued: Any) -> Signer:
    return Signer(serialization.load_pem_private_key(issued.key_pem or b"", None), issued.certificate_pem)  # type: ignore[arg-type]


def cases(regs: Caller, ldso: Caller, pki_dir: Path, work: Path, revoked: Signer | None) -> list[Case]:
    ca = CertificateAuthority.load(pki_dir)
    past = datetime.now(UTC) - timedelta(days=10)
    expired = _signer(ca.issue(REGS, "Expired", not_before=past - timedelta(days=30), not_after=past))
    minted = _signer(ca.issue(REGS, "Minted outside the register"))
    foreign = _signer(CertificateAuthority.init(work / "foreign-ca", name="Someone Else CA").issue(REGS, "Impostor"))
    routes: list[tuple[str, Callable[[], bytes]]] = [
        ("/dip-channel/IF-043", lambda: batch(message())),
        ("/statusmessage", lambda: orjson.dumps([{"transactionID": "T" * 20, "message": "MSG0000 - Success"}])),
        (f"/dip-channel/IF-043/pubconfig/{REGS}", lambda: orjson.dumps({"callbackURL": "http://127.0.0.1:9/regs"})),
    ]
    now = datetime.now(UTC)
    faults: list[tuple[str, dict[str, Any], int, str]] = [
        ("no X-API-Key", {"drop": ("X-API-Key",)}, 401, "MSG2001"),
        ("empty X-API-Key", {"api_key": ""}, 401, "MSG2001"),
        ("unknown X-API-Key", {"api_key": "odk_not-a-key"}, 401, "MSG2002"),
        ("X-API-Key of 10,000 characters", {"api_key": "k" * 10_000}, 401, "MSG2002"),
        ("another participant's X-API-Key", {"api_key": ldso.credentials.api_key}, 401, "MSG2010"),
        ("no X-DIP-Signature", {"drop": (SIG,)}, 401, "MSG2003"),
        ("no X-DIP-Signature-Date", {"drop": (DATE,)}, 401, "MSG2003"),
        ("no X-DIP-Content-Hash", {"drop": (HASH,)}, 401, "MSG2003"),
        ("no X-DIP-Signature-Certificate", {"drop": (CERT,)}, 401, "MSG2003"),
        ("signature over another body (hash of this one)", {"sign_body": b"[]", "extra_hash": True}, 401, "MSG2005"),
        ("hash and signature of another body", {"sign_body": b"[]"}, 401, "MSG2004"),
        ("signature over another URL", {"sign_url": "http://127.0.0.1:1/dip-channel/if-044"}, 401, "MSG2005"),
        ("signature over another method", {"sign_method": "PUT"}, 401, "MSG2005"),
        ("signature not base64", {"extra": {SIG: "!!!not base64!!!"}}, 401, "MSG2005"),
        ("signature of random bytes", {"extra": {SIG: "QUJD" * 86}}, 401, "MSG2005"),
        ("content hash not base64", {"extra": {HASH: "%%%"}}, 401, "MSG2004"),
        ("signature date an hour old", {"sign_time": now - timedelta(hours=1)}, 401, "MSG2009"),
        ("signature date an hour ahead", {"sign_time": now + timedelta(hours=1)}, 401, "MSG2009"),
        ("signature date 2026-13-45", {"extra": {DATE: "2026-13-45T99:99:99.000Z"}}, 401, "MSG2009"),
        ("signature date not a date", {"extra": {DATE: "yesterday"}}, 401, "MSG2009"),
        ("certificate not base64", {"extra": {CERT: "%%%"}}, 401, "MSG2011"),
        ("certificate base64 of garbage", {"extra": {CERT: "QUJD" * 200}}, 401, "MSG2011"),
        ("certificate from a foreign CA", {"signer": foreign}, 401, "MSG2006"),
        ("certificate expired", {"signer": expired}, 401, "MSG2007"),
        ("certificate minted with the CA key, never registered", {"signer": minted}, 401, "MSG2010"),
        ("another participant's certificate", {"signer": ldso.signer}, 401, "MSG2010"),
    ]
    if revoked is not None:
        faults.append(("certificate revoked", {"signer": revoked}, 401, "MSG2008"))
    out: list[Case] = []
    for path, body in routes:
        for name, fault, status, code in faults:
            out.append(Case(CATEGORY, f"{path.split('/')[1]}: {name}", _faulty(regs, path, body, fault), status, code))
        out.append(
            Case(
                CATEGORY,
                f"{path.split('/')[1]}: the same signed request twice",
                _replayed(regs, path, body),
                401,
                "MSG2012",
            )
        )
        out.append(
            Case(
                CATEGORY,
                f"{path.split('/')[1]}: unknown key, 4 MB declared, 1 KB sent",
                _key_first(regs, path),
                401,
                "MSG2002",
                _quick,
            )
        )
    port = int(regs.base.rsplit(":", 1)[1])
    for name, header in (
        ("X-API-Key of Latin-1 bytes", b"X-API-Key: \xff\xfe\xfd"),
        ("X-API-Key with a NUL", b"X-API-Key: odk_\x00x"),
        ("X-API-Key twice", b"X-API-Key: odk_a\r\nX-API-Key: odk_b"),
    ):
        request = b"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nContent-Length: 2\r\n" + header + b"\r\n\r\n[]"
        out.append(
            Case(
                CATEGORY,
                f"raw: {name}",
                lambda r=request: raw_got(*raw_exchange(port, r, wait=20)),
                (400, 401),
                ("MSG2001", "MSG2002", None),
            )
        )
    return out


def _faulty(caller: Caller, path: str, body: Callable[[], bytes], fault: dict[str, Any]) -> Callable[[], Got]:
    def send() -> Got:
        content = body()
        fault_ = dict(fault)
        if fault_.pop("extra_hash", False):  # the hash is right for this body, the signature is over another
            import base64
            import hashlib

            url = caller.base + path
            headers = caller.headers("POST", url, content, **fault_)
            headers[HASH] = base64.b64encode(hashlib.sha256(content).digest()).decode()
            return got(caller.http.post(url, content=content, headers=headers))
        return caller.post(path, content, **fault_)

    return send


def _replayed(caller: Caller, path: str, body: Callable[[], bytes]) -> Callable[[], Got]:
    def send() -> Got:
        content = body()
        url = caller.base + path
        headers = caller.headers("POST", url, content)
        caller.http.post(url, content=content, headers=headers)
        return got(caller.http.post(url, content=content, headers=headers))

    return send


def _key_first(caller: Caller, path: str) -> Callable[[], Got]:
    port = int(caller.base.rsplit(":", 1)[1])
    head = (
        f"POST {path} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
        "X-API-Key: odk_not-a-key\r\nContent-Length: 4000000\r\n\r\n"
    )
    return lambda: raw_got(*raw_exchange(port, head.encode() + b"[" + b" " * 1023, wait=20))


def _quick(answer: Got) -> str:
    seconds = float(answer.note.split()[1]) if answer.note.startswith("after") else 99.0
    return "" if seconds < 5 else f"answered only after {seconds:.1f} s: the body was waited for"
