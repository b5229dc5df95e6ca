"""API keys: issued at random, stored only as a hash, shown once, rotated with overlap, revocable.

Rotation issues a new key and sets the participant's older keys to stop
working after the overlap (a day by default), so a participant can roll the
new key out to its systems without an outage. Revocation stops a key at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.participants import repository
from opendip.participants.identity import key_row, new_api_key


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    api_key: str
    older_keys_stop_at: float | None

    def as_json(self) -> dict[str, Any]:
        return {"keyId": self.key_id, "apiKey": self.api_key, "olderKeysStopAt": self.older_keys_stop_at}


def key_state(row: dict[str, Any], now: float) -> str:
    if row["revoked_at"] is None:
        return "active"
    return "expiring" if row["revoked_at"] > now else "revoked"


class ApiKeyService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def rotate(self, dip_id: str, *, overlap_seconds: float | None = None, actor: Actor) -> IssuedKey:
        overlap = self._settings.api_key_overlap_seconds if overlap_seconds is None else overlap_seconds
        if not 0 <= overlap <= 30 * 86400:
            raise DipError(Msg.SCHEMA_FAILURE, "$.overlapSeconds: from 0 to 2592000 (30 days)")
        api_key = new_api_key()
        now = time.time()
        with self._db.begin() as conn:
            if repository.get_participant(conn, dip_id) is None:
                raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
            stop_at = now + overlap
            expiring = repository.expire_api_keys(conn, dip_id, stop_at)
            repository.insert_api_key(conn, key_row(dip_id, api_key, now))
            key_id = max(row["id"] for row in repository.api_key_rows(conn, dip_id))
            audit.record(
                conn,
                actor,
                "api_key.rotate",
                f"participant:{dip_id}",
                detail={"newKeyPrefix": api_key[:12], "olderKeys": expiring, "olderKeysStopAt": stop_at},
            )
        return IssuedKey(key_id, api_key, stop_at if expiring else None)

    def revoke(self, dip_id: str, key_id: int, *, actor: Actor) -> None:
        now = time.time()
        with self._db.begin() as conn:
            if not repository.expire_api_keys(conn, dip_id, now, key_id=key_id):
                raise DipError(Msg.NOT_FOUND, f"no working API key {key_id} for {dip_id}")
            audit.record(conn, actor, "api_key.revoke", f"participant:{dip_id}", detail={"keyId": key_id})

    def list_keys(self, dip_id: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._db.begin() as conn:
            rows = repository.api_key_rows(conn, dip_id)
        return [
            {
                "keyId": r["id"],
                "prefix": r["prefix"],
                "createdAt": r["created_at"],
                "stopsAt": r["revoked_at"],
                "state": key_state(r, now),
            }
            for r in rows
        ]
