"""The operations parts a running hub holds: maintenance state, the health probe, backups and retention.

Every process reads the maintenance window and probes health (an API node
must refuse sends and counts as the hub serving); backups run only where
deliveries run, one at a time across a deployment, and so does the loop that
makes the journal's day partitions ahead (PostgreSQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from opendip.config import Settings
from opendip.core.loops import Loop
from opendip.db.engine import Database
from opendip.ops import metrics
from opendip.ops.maintenance import Hook, MaintenanceState
from opendip.ops.service import OpsService
from opendip.ops.tasks import BackupSchedule, JournalDaysAhead, RetentionSchedule

log = structlog.get_logger(__name__)
JOURNAL_DAYS_CHECK = 600.0
"""Seconds between checks that the journal's next days have their partitions (a catalogue read)."""


class OpsParts:
    """Background operations jobs, started and stopped with the hub."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        background: bool,
        on_hold: Hook | None = None,
        on_resume: Hook | None = None,
    ) -> None:
        self.settings = settings
        self.service = OpsService(db)
        self.maintenance = MaintenanceState(self.service, on_hold, on_resume)
        self.backups = BackupSchedule(settings, db)
        self.retention = RetentionSchedule(settings, db)
        self.journal_days = JournalDaysAhead(db)
        self.db = db
        self.background = background
        self._loops: list[Loop] = []
        interval = settings.backup_interval_seconds
        self._backup_check = min(60.0, max(0.2, interval / 4)) if interval > 0 else 0.0

    async def start(self) -> None:
        jobs: list[tuple[str, Callable[[], Awaitable[object]], float]] = [
            ("maintenance", self.maintenance.refresh, self.settings.maintenance_refresh_seconds),
            ("health-probe", self.probe, self.settings.health_probe_seconds),
        ]
        if self.background and self._backup_check:
            jobs.append(("backups", self.backups.step, self._backup_check))
        if self.background and self.settings.retention_interval_seconds > 0:
            jobs.append(("retention", self.retention.step, min(60.0, self.settings.retention_interval_seconds)))
        if self.background and not self.db.is_sqlite:
            jobs.append(("journal-days", self.journal_days.step, JOURNAL_DAYS_CHECK))
        for name, step, interval in jobs:
            loop = Loop(f"ops-{name}", step, interval)
            loop.start()
            self._loops.append(loop)

    async def probe(self) -> None:
        outage = await asyncio.to_thread(self.service.probe, self.settings.outage_threshold_seconds)
        if outage is not None:
            log.warning("outage recorded", started_at=outage.started_at, seconds=round(outage.seconds, 1))
        months = await asyncio.to_thread(self.service.availability)
        newest = await asyncio.to_thread(self.backups.service.newest) if self.background else None
        metrics.publish(months, self.maintenance.active() is not None, newest.finished_at if newest else None)
        metrics.publish_retention(await asyncio.to_thread(self.retention.service.status))

    async def stop(self) -> None:
        loops, self._loops = self._loops, []
        for loop in loops:
            await loop.cancel()
