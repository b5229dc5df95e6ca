"""Maintenance and availability: the logic and the transactions over the operations tables."""

from __future__ import annotations

import time
from collections.abc import Callable

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.ops import repository
from opendip.ops.availability import MonthAvailability, months
from opendip.ops.repository import OutageRecord, Window


class MaintenanceError(ValueError):
    """A maintenance request that cannot be carried out as given (for example an end time in the past)."""


class OpsService:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def start_maintenance(self, until: float, reason: str, by: str) -> Window:
        now = self.clock()
        if until <= now:
            raise MaintenanceError("--until must be in the future")
        if not reason.strip():
            raise MaintenanceError("--reason must say why: participants see it")
        with self.db.begin() as conn:
            return repository.start_window(conn, now, until, reason.strip(), by)

    def end_maintenance(self) -> list[Window]:
        with self.db.begin() as conn:
            return repository.close_windows(conn, self.clock(), early=True)

    def current_maintenance(self) -> Window | None:
        with read_engine(self.db).connect() as conn:
            return repository.open_window(conn, self.clock())

    def probe(self, threshold: float) -> OutageRecord | None:
        """The health probe: the store answers a write, so the hub serves; close windows that ran out."""
        with self.db.begin(urgent=True) as conn:
            repository.close_windows(conn, self.clock(), early=False)
            return repository.beat(conn, self.clock(), threshold)

    def availability(self) -> list[MonthAvailability]:
        now = self.clock()
        with read_engine(self.db).connect() as conn:
            first = repository.first_seen(conn)
            if first is None:
                return []
            return months(repository.outages_between(conn, first, now), first, now)

    def outages_between(self, start: float, end: float) -> list[OutageRecord]:
        """Outages overlapping [start, end), oldest first (the assurance pack's evidence)."""
        with read_engine(self.db).connect() as conn:
            return repository.outages_between(conn, start, end)

    def recent_outages(self, limit: int = 50) -> list[OutageRecord]:
        with read_engine(self.db).connect() as conn:
            return repository.recent_outages(conn, limit)
