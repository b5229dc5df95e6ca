"""The X-DIP signature headers on the wire: names, hash, date format and signed text.

Kept apart from the cryptography so that anything that only needs to read or
format a header (logs, the portal's request inspector, the simulator) can.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from opendip.errors import AuthenticationError, Msg

SIGNATURE_DATE = "X-DIP-Signature-Date"
CONTENT_HASH = "X-DIP-Content-Hash"
SIGNATURE_CERTIFICATE = "X-DIP-Signature-Certificate"
SIGNATURE = "X-DIP-Signature"
SIGNATURE_HEADERS = (SIGNATURE_DATE, CONTENT_HASH, SIGNATURE_CERTIFICATE, SIGNATURE)

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)


def content_hash(body: bytes) -> str:
    """base64 of the SHA-256 of the exact body bytes, as X-DIP-Content-Hash carries it."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def format_signature_date(dt: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z, e.g. 2026-11-25T13:40:00.123Z.

    A naive datetime is refused: guessing its zone is how signatures end up an
    hour out of skew twice a year.
    """
    if dt.tzinfo is None:
        raise ValueError("signature dates must be timezone-aware")
    dt = dt.astimezone(UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def parse_signature_date(text: str) -> datetime:
    """Parse a signature date into an aware UTC datetime; ValueError if it is not one.

    Third-party clients vary: Z or +00:00 (any explicit offset is converted),
    with or without fractional seconds. A date without a zone is refused.
    """
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 time with a zone: {text!r}")
    day, clock, fraction, zone = match.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone.upper() == "Z" else zone
    return datetime.fromisoformat(f"{day}T{clock}.{micros}{offset}").astimezone(UTC)


def signing_string(method: str, url: str, signature_date: str, content_hash: str) -> str:
    """`METHOD;url-in-lower-case;signature-date;content-hash`, the text that is signed.

    The method is used exactly as given so callers can build either form:
    the spec writes it upper-case, real clients send it lower-case.
    """
    return f"{method};{url.lower()};{signature_date};{content_hash}"


def utc_text(dt: datetime) -> str:
    """Second-precision UTC with a Z, for human-readable details (expiry dates)."""
    return f"{dt.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def read_signature_headers(headers: Mapping[str, str]) -> list[str]:
    """The four header values; AuthenticationError naming any that are missing or empty.

    Starlette's Headers already look up case-insensitively; a plain dict may
    use any case, so fold it once only when a direct lookup misses.
    """
    values = [headers.get(name) for name in SIGNATURE_HEADERS]
    if not all(values):
        folded = {key.lower(): value for key, value in headers.items()}
        values = [folded.get(name.lower()) for name in SIGNATURE_HEADERS]
    missing = [name for name, value in zip(SIGNATURE_HEADERS, values, strict=True) if not value]
    if missing:
        raise AuthenticationError(Msg.SIGNATURE_HEADERS_MISSING, f"missing {', '.join(missing)}")
    return [value.strip() for value in values if value]
