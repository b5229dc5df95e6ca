"""X-Continuation-Token: where the next replay page starts, and the snapshot it belongs to.

Pages are keyed on the outbox row id (keyset pagination), not on an offset:
`after` is the last row already returned and `upto` the newest row that
existed when the first page was asked for. Every later page reads
`after < id <= upto` in id order, so messages arriving meanwhile neither
shift the pages (no duplicates, no gaps) nor join this replay; they belong
to the next one. The token also carries the filter's fingerprint, so a token
sent back with a different filter is refused rather than silently mixing two
replays.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from opendip.errors import DipError, Msg

VERSION = 1


@dataclass(frozen=True)
class Cursor:
    scope: str
    fingerprint: str
    after: int
    upto: int

    def encode(self) -> str:
        raw = orjson.dumps({"v": VERSION, "s": self.scope, "f": self.fingerprint, "a": self.after, "u": self.upto})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, scope: str, fingerprint: str) -> Cursor:
    """The cursor in `token`, checked against this request's scope and filter."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        cursor = Cursor(str(data["s"]), str(data["f"]), int(data["a"]), int(data["u"]))
        version = data["v"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "X-Continuation-Token is not a token this hub issued") from exc
    if version != VERSION or cursor.scope != scope:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "X-Continuation-Token belongs to another replay")
    if cursor.fingerprint != fingerprint:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "the filter body differs from the one the token was issued for")
    if not 0 <= cursor.after <= cursor.upto:
        raise DipError(Msg.INVALID_CONTINUATION_TOKEN, "X-Continuation-Token is damaged")
    return cursor
