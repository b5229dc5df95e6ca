"""Signed-in sessions: a random cookie token (only its hash is stored) with its own CSRF token.

A session ends at whichever comes first: its absolute lifetime, an idle
period, sign-out, a password change, or the user being disabled. The
last-seen time is written at most once a minute so browsing is not a stream
of writes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from opendip.accounts import repository
from opendip.accounts.directory import Organisations
from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.reads import read_engine
from opendip.db.engine import Database

SESSION_COOKIE = "opendip_session"
LOGIN_CSRF_COOKIE = "opendip_login_csrf"
TOUCH_EVERY_SECONDS = 60.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: float


class SessionService:
    def __init__(self, db: Database, settings: Settings, organisations: Organisations) -> None:
        self._db = db
        self._settings = settings
        self._organisations = organisations

    def open(self, user_id: int, username: str, source: str) -> NewSession:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.time()
        expires = now + self._settings.session_ttl_seconds
        with self._db.begin() as conn:
            repository.insert_session(
                conn,
                {
                    "token_hash": token_hash(token),
                    "user_id": user_id,
                    "csrf_token": csrf,
                    "created_at": now,
                    "expires_at": expires,
                    "last_seen_at": now,
                    "source": source[:200],
                },
            )
            user = repository.user_by_id(conn, user_id)
            actor = Actor(
                f"user:{username}", source, user["role"] if user else None, user["organisation_id"] if user else None
            )
            audit.record(conn, actor, "session.sign_in", f"user:{username}")
        return NewSession(token, csrf, expires)

    def viewer(self, token: str | None, source: str) -> Viewer | None:
        """The signed-in viewer for a cookie token, or None when it is unknown or no longer valid."""
        if not token or len(token) > 200:
            return None
        now = time.time()
        with read_engine(self._db).connect() as conn:  # a read: SQLite's write lock is not needed
            row = repository.session_with_user(conn, token_hash(token))
            if row is None or row["revoked_at"] is not None or row["disabled_at"] is not None:
                return None
            if row["expires_at"] <= now or now - row["last_seen_at"] > self._settings.session_idle_seconds:
                return None
            organisation = row["organisation_id"]
            dip_ids = self._organisations.dip_ids(conn, organisation) if organisation else frozenset()
        if now - row["last_seen_at"] > TOUCH_EVERY_SECONDS:
            with self._db.begin() as conn:
                repository.touch_session(conn, row["session_id"], now)
        return Viewer(
            username=row["username"],
            role=Role(row["role"]),
            organisation_id=organisation,
            dip_ids=dip_ids,
            source=source,
            user_id=row["user_id"],
            session_id=row["session_id"],
            csrf_token=row["csrf_token"],
            display_name=row["display_name"],
        )

    def close(self, viewer: Viewer) -> None:
        if viewer.session_id is None:
            return
        with self._db.begin() as conn:
            repository.revoke_session(conn, viewer.session_id, time.time())
            audit.record(conn, viewer.actor, "session.sign_out", f"user:{viewer.username}")
