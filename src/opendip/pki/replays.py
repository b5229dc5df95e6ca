"""Replay protection: a signature is accepted once on a state-changing request.

RSA PKCS#1 v1.5 signatures are deterministic, so a captured request resent
unchanged carries the very same signature bytes; the signature date alone
would let it through for as long as the skew window lasts. Each signature
is therefore recorded in the store (shared by every API node, kept across
restarts) until its date falls outside the window, when the date check
refuses it anyway. Reads (GET, HEAD) change nothing and are not recorded.

One INSERT per request: the primary key does the check, so a replay arriving
at two nodes at once is refused by one of them, never accepted twice. The send
path records it inside the transaction that stores the batch (no extra commit);
other requests claim it in a transaction of its own, which on PostgreSQL does
not wait for its WAL flush (`synchronous_commit off`): other nodes see the row
at once, and only a crash of the database server in the next fraction of a
second could forget it (bench/RESULTS.md has the cost either way).
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.exc import IntegrityError

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.errors import AuthenticationError, Msg
from opendip.pki.signing import VerifiedSignature
from opendip.pki.tables import seen_signatures

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignatureLedger:
    def __init__(self, db: Database, max_skew_seconds: float) -> None:
        self._db = db
        self._window = max_skew_seconds

    def claim(self, method: str, verified: VerifiedSignature) -> None:
        """Record the request's signature in a transaction of its own, or raise MSG2012 if it was seen."""
        if method.upper() in SAFE_METHODS:
            return
        with self._db.begin() as conn:
            if not self._db.is_sqlite:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            self.record(conn, verified)

    def record(self, conn: Connection, verified: VerifiedSignature) -> None:
        """Record the signature in the caller's transaction; MSG2012 (and the transaction rolled back) if seen."""
        digest = hashlib.sha256(verified.signature).hexdigest()
        expires_at = verified.signature_date.timestamp() + self._window
        try:
            conn.execute(seen_signatures.insert(), {"digest": digest, "expires_at": expires_at})
        except IntegrityError:
            raise AuthenticationError(
                Msg.SIGNATURE_REPLAYED,
                f"this X-DIP-Signature (dated {verified.signature_date.isoformat()}) was already used on a request",
            ) from None

    def purge(self, now: float | None = None) -> int:
        """Forget signatures whose dates the skew check now refuses on its own."""
        with self._db.begin() as conn:
            return conn.execute(
                delete(seen_signatures).where(seen_signatures.c.expires_at < (now or time.time()))
            ).rowcount

    def count(self) -> int:
        with read_engine(self._db).connect() as conn:
            return int(conn.execute(select(func.count()).select_from(seen_signatures)).scalar_one())
