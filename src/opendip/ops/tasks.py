"""Background operations work: the backup schedule, the retention schedule, the journal's days ahead.

Each job is a step that decides for itself whether it is due, so the loop
around it only needs a short, fixed interval, and a restart never resets the
schedule: the newest backup's manifest, not the process, says when the last
one was taken.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable

import structlog
from sqlalchemy import text

from opendip.config import Settings
from opendip.core.reads import read_engine
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.ops import metrics
from opendip.ops.backups import BackupService
from opendip.ops.locks import exclusive
from opendip.ops.retention import RetentionService

log = structlog.get_logger(__name__)
BACKUP_LOCK = 0x0B4C  # one scheduled backup at a time across a PostgreSQL deployment's processes
RETENTION_LOCK = 0x0B4D  # one retention run at a time, likewise
JOURNAL_DAYS_LOCK = 0x0B4E  # one node making a store's journal partitions at a time (with the schema in the key)


class BackupSchedule:
    """Takes a backup when the newest is `backup_interval_seconds` old, then prunes old ones."""

    def __init__(self, settings: Settings, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.service = BackupService(settings)
        self.settings = settings
        self.db = db
        self.clock = clock
        self.started_at = clock()

    def due_at(self) -> float:
        newest = self.service.newest()
        last = newest.finished_at if newest else self.started_at
        return last + self.settings.backup_interval_seconds

    def step_blocking(self) -> bool:
        """One check; True when a backup was taken."""
        if self.settings.backup_interval_seconds <= 0 or self.clock() < self.due_at():
            return False
        with exclusive(self.db, BACKUP_LOCK) as mine:
            if not mine or self.clock() < self.due_at():
                return False
            self.service.take()
        removed = self.service.prune(self.clock())
        if removed:
            log.info("old backups removed", removed=removed)
        return True

    async def step(self) -> None:
        await asyncio.to_thread(self.step_blocking)


class RetentionSchedule:
    """Runs retention every `retention_interval_seconds` where deliveries run, one node at a time."""

    def __init__(self, settings: Settings, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.service = RetentionService(settings, db, clock)
        self.settings = settings
        self.db = db
        self.clock = clock
        self.last_run = 0.0

    def step_blocking(self) -> bool:
        """One check; True when a run was made."""
        interval = self.settings.retention_interval_seconds
        if interval <= 0 or self.clock() < self.last_run + interval:
            return False
        if not any(self.service.period_days(kind) > 0 for kind in ("messages", "journal", "audit")):
            return False
        self.last_run = self.clock()
        with exclusive(self.db, RETENTION_LOCK) as mine:
            if not mine:
                return False
            self.service.run()
        return True

    async def step(self) -> None:
        await asyncio.to_thread(self.step_blocking)


class JournalDaysAhead:
    """Keeps the journal's day partitions `journal_days.AHEAD` days ahead of today (PostgreSQL, one node at a
    time), so the default partition stays empty; publishes how many days ahead exist."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def step_blocking(self) -> list[str]:
        """One check; the partitions made."""
        with read_engine(self.db).connect() as conn:
            if not journal_days.is_partitioned(conn):
                return []
            schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
        made: list[str] = []
        # one lock per store (schema): hosted environments' stores share the database, not the work
        with exclusive(self.db, (JOURNAL_DAYS_LOCK << 32) | zlib.crc32(schema.encode())) as mine:
            if mine:
                with self.db.begin() as conn:
                    made = journal_days.ensure_ahead(conn, self.clock())
        if made:
            log.info("journal partitions made", partitions=made)
        with read_engine(self.db).connect() as conn:
            metrics.JOURNAL_DAYS_AHEAD.set(journal_days.days_ahead(conn, self.clock()))
        return made

    async def step(self) -> None:
        await asyncio.to_thread(self.step_blocking)
