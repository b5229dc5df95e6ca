"""X-Continuation-Token: where the next replay page starts, and the snapshot it belongs to.

Pages are keyed on the outbox row id (keyset pagination), not on an offset:
`after` is the last row already returned and `upto` the newest row that
existed when the first page was asked for. Every later page reads
`after < id <= upto` in id order, so messages arriving meanwhile neither
shift the pages (no duplicates, no gaps) nor join this replay; they belong
to the next one. The token also carries the filter's fingerprint, so a token
sent back with a different filter is refused rather than silently mixing two
replays.

Tokens are signed (HMAC-SHA-256 with a key every API node derives from the
hub's own key): a client that edits one, to step past the snapshot its first
page fixed or into another scope, is answered 400 MSG4061, never served.
`seal` and `unseal` do the same for the portal's page cursors (its Next and
Previous links), with the same key and a scope of their own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from opendip.errors import DipError, Msg

VERSION = 2
MAX_TOKEN_CHARS = 1024  # a token this hub issues is a few hundred characters


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Cursor:
    scope: str
    fingerprint: str
    after: int
    upto: int

    def encode(self, key: bytes) -> str:
        raw = orjson.dumps({"v": VERSION, "s": self.scope, "f": self.fingerprint, "a": self.after, "u": self.upto})
        return _b64(raw) + "." + _b64(_sign(key, raw))


def decode(token: str, scope: str, fingerprint: str, key: bytes) -> Cursor:
    """The cursor in `token`, its signature checked first, then against this request's scope and filter."""
    not_ours = DipError(Msg.INVALID_CONTINUATION_TOKEN, "X-Continuation-Token is not a token this hub issued")
    if len(token) > MAX_TOKEN_CHARS or not token.isascii() or token.count(".") != 1:
        raise not_ours
    payload, signature = token.split(".")
    try:
        raw = _unb64(payload)
        if not hmac.compare_digest(_unb64(signature), _sign(key, raw)):
            raise not_ours
        data = orjson.loads(raw)
        after, upto = data["a"], data["u"]
        if not (type(after) is int and type(upto) is int):
            raise not_ours
        cursor = Cursor(str(data["s"]), str(data["f"]), after, upto)
        version = data["v"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise not_ours from exc
    if version != VERSION or cursor.scope != scope:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "X-Continuation-Token belongs to another replay")
    if cursor.fingerprint != fingerprint:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "the filter body differs from the one the token was issued for")
    if not 0 <= cursor.after <= cursor.upto:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "X-Continuation-Token is damaged")
    return cursor


def seal(key: bytes, scope: str, value: str) -> str:
    """`value` made tamper-evident for a round trip through a client (a portal page's Next link):
    readable, but any edit, or use in another `scope`, fails `unseal`."""
    raw = value.encode()
    return _b64(raw) + "." + _b64(_sign(key, scope.encode() + b"\0" + raw))


def unseal(key: bytes, scope: str, token: str) -> str | None:
    """The value `seal` put in `token` for `scope`, or None when the token was altered or made elsewhere."""
    if len(token) > MAX_TOKEN_CHARS or not token.isascii() or token.count(".") != 1:
        return None
    payload, signature = token.split(".")
    try:
        raw = _unb64(payload)
        if not hmac.compare_digest(_unb64(signature), _sign(key, scope.encode() + b"\0" + raw)):
            return None
        return raw.decode()
    except (binascii.Error, ValueError):
        return None
