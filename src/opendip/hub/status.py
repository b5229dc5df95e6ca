"""The status and replay parts of a running hub, built once and started with it.

API nodes need the services (L4 intake, replay, requeue jobs); worker
processes also run the background loops: the requeue runner and the
expectation sweeper (L4 statuses are sent by the delivery worker, one of its
outbox kinds). Every loop shares its work through the
database, so any number of worker processes may run them side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from opendip.catalogue.policy import policy_for
from opendip.config import Settings
from opendip.core.loops import Loop
from opendip.db.engine import Database
from opendip.replay.repository import CHANNEL
from opendip.replay.runner import RequeueRunner
from opendip.replay.service import ReplayService, RequeueService
from opendip.status.expectations import ExpectationSweeper
from opendip.status.service import StatusService

log = structlog.get_logger(__name__)


@dataclass
class StatusParts:
    service: StatusService
    replay: ReplayService
    requeue: RequeueService
    runner: RequeueRunner | None = None
    sweeper: ExpectationSweeper | None = None
    sweep_seconds: float = 5.0
    _sweeping: Loop | None = field(default=None, repr=False)

    async def start(self) -> None:
        if self.runner is not None:
            await self.runner.start()
        sweeper = self.sweeper
        if sweeper is not None and sweeper.active and self._sweeping is None:
            self._sweeping = Loop("expectation-sweeper", lambda: asyncio.to_thread(sweeper.sweep), self.sweep_seconds)
            self._sweeping.start()

    async def stop(self) -> None:
        if self._sweeping is not None:
            await self._sweeping.cancel()
            self._sweeping = None
        if self.runner is not None:
            await self.runner.stop()


def build_status_parts(
    db: Database,
    settings: Settings,
    *,
    background: bool,
    wake_delivery: Callable[[], None] = lambda: None,
    wake_status: Callable[[], None] = lambda: None,
) -> StatusParts:
    """Services always; the background loops when this process delivers (`background`).

    `wake_delivery` and `wake_status` wake the delivery worker for new message or L4 rows.
    """
    from opendip.pki.authority import hub_secret

    policy = policy_for(settings)
    parts = StatusParts(
        service=StatusService(db, settings),
        replay=ReplayService(db, settings, hub_secret(settings, "continuation-tokens")),
        requeue=RequeueService(db),
        sweep_seconds=settings.status_sweep_seconds,
    )
    if not background:
        return parts
    parts.service.on_stored = wake_status

    def enqueued(kind: str) -> None:
        (wake_delivery if kind == CHANNEL else wake_status)()

    parts.runner = RequeueRunner(
        db, chunk=settings.requeue_chunk, poll_seconds=settings.delivery_poll_seconds, on_enqueued=enqueued
    )
    parts.requeue.on_created = parts.runner.wake
    parts.sweeper = ExpectationSweeper(db, policy.expectations)
    return parts
