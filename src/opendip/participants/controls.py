"""Stopping and starting a participant's traffic, and its rate limit and quota.

Stopping the inbound API holds deliveries to the participant in the outbox
(the delivery claim skips it): nothing is lost, nothing is retried or
counted as failed, and everything flows in order once it starts again.
Stopping outbound sending refuses its messages with MSG3050 until started.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.participants import records, repository


class Direction(StrEnum):
    RECEIVING = "receiving"
    SENDING = "sending"


_COLUMN = {Direction.RECEIVING: "receiving_stopped_at", Direction.SENDING: "sending_stopped_at"}


class TrafficControl:
    def __init__(self, db: Database) -> None:
        self._db = db

    def set_stopped(self, dip_id: str, direction: Direction, stopped: bool, *, actor: Actor) -> dict[str, Any]:
        now = time.time()
        with self._db.begin() as conn:
            if repository.get_participant(conn, dip_id) is None:
                raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
            records.upsert_profile(conn, dip_id, {_COLUMN[direction]: now if stopped else None}, now)
            action = f"participant.{'stop' if stopped else 'start'}_{direction.value}"
            audit.record(conn, actor, action, f"participant:{dip_id}")
            return self._state(conn, dip_id)

    def set_limits(
        self,
        dip_id: str,
        *,
        rate_per_second: float | None,
        burst: int | None,
        daily_quota: int | None,
        actor: Actor,
    ) -> dict[str, Any]:
        if rate_per_second is not None and not 0 <= rate_per_second <= 100_000:
            raise DipError(Msg.SCHEMA_FAILURE, "$.ratePerSecond: from 0 (no limit) to 100000, or null for the default")
        if burst is not None and not 1 <= burst <= 1_000_000:
            raise DipError(Msg.SCHEMA_FAILURE, "$.burst: from 1 to 1000000, or null for the default")
        if daily_quota is not None and not 0 <= daily_quota <= 10**9:
            raise DipError(Msg.SCHEMA_FAILURE, "$.dailyQuota: from 0 to 1000000000 messages, or null for the default")
        now = time.time()
        values = {"rate_per_second": rate_per_second, "rate_burst": burst, "daily_quota": daily_quota}
        with self._db.begin() as conn:
            if repository.get_participant(conn, dip_id) is None:
                raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
            records.upsert_profile(conn, dip_id, values, now)
            audit.record(conn, actor, "participant.limits", f"participant:{dip_id}", detail=values)
            return self._state(conn, dip_id)

    def state(self, dip_id: str) -> dict[str, Any]:
        with self._db.begin() as conn:
            return self._state(conn, dip_id)

    @staticmethod
    def _state(conn: Any, dip_id: str) -> dict[str, Any]:
        profile = records.get_profile(conn, dip_id) or {}
        return {
            "receivingStoppedAt": profile.get("receiving_stopped_at"),
            "sendingStoppedAt": profile.get("sending_stopped_at"),
            "ratePerSecond": profile.get("rate_per_second"),
            "burst": profile.get("rate_burst"),
            "dailyQuota": profile.get("daily_quota"),
        }
