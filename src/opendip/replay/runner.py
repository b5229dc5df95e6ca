"""The requeue runner: turns a requeue job into new outbox rows, chunk by chunk, then settles it.

Each chunk is one transaction: read the next matching original rows after
the job's cursor, insert their replay copies (replay = true, so D0 says
replayIndicator: true), link them to the job, journal them, and move the
cursor. The job row is locked for that transaction (FOR UPDATE SKIP LOCKED
on PostgreSQL; SQLite has one writer), so any number of runners can share
the jobs and a runner killed mid-chunk leaves nothing behind: the hub never
creates a second copy of the same message for the same requeue.

The delivery workers do the sending, with their retries, breaker and
journal; the runner only watches the job's items until each has a final
outcome and then records Completed, PartialCompletion or Failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import Connection, insert, select, update

from opendip.core import hour_counts, journal
from opendip.core.loops import Loop
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.models import deliveries
from opendip.replay import repository
from opendip.replay.filters import ReplayFilter
from opendip.replay.progress import PROCESSING, progress_of
from opendip.replay.repository import CHANNEL
from opendip.replay.service import Scope
from opendip.replay.tables import requeue_items, requeues
from opendip.status.tables import status_deliveries, status_messages

log = structlog.get_logger(__name__)

CHUNK_SECONDS = 1.0
SETTLE_EVERY_SECONDS = 0.5

_d, _s = deliveries.c, status_messages.c
_ENQUEUE_COLUMNS = {
    CHANNEL: (_d.id, _d.transaction_id, _d.recipient_dip_id, _d.interface_id, _d.recipient_kind, _d.publication_id),
    repository.STATUS: (_s.id, _s.transaction_id, _s.sender_dip_id),
}


def scope_of(job: Any) -> Scope:
    interfaces = tuple(job.interface_id.split(",")) if job.interface_id else ()
    return Scope(job.kind, job.recipient_dip_id, interfaces)


class RequeueRunner:
    def __init__(
        self,
        db: Database,
        *,
        chunk: int = 2000,
        poll_seconds: float = 0.5,
        on_enqueued: Callable[[str], None] = lambda kind: None,
    ) -> None:
        self.db = db
        self.chunk = max(1, chunk)
        self.poll_seconds = poll_seconds
        self.on_enqueued = on_enqueued
        self._settled_at: dict[str, float] = {}
        self._loop = Loop("requeue-runner", lambda: asyncio.to_thread(self.run_once), poll_seconds)

    async def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.cancel()

    def wake(self) -> None:
        """Look for work now rather than at the next poll; safe from any thread."""
        self._loop.wake()

    def run_once(self) -> bool:
        """Enqueue chunks for up to about a second, then settle finished jobs; True if work remains."""
        with read_engine(self.db).connect() as conn:
            jobs = conn.execute(
                select(requeues).where(requeues.c.status == PROCESSING).order_by(requeues.c.created_at)
            ).all()
        busy = False
        deadline = time.monotonic() + CHUNK_SECONDS
        for job in jobs:
            if job.cursor_id < job.upto_id:
                while time.monotonic() < deadline:
                    more = self.enqueue_chunk(job.id)
                    if not more:
                        break
                else:
                    busy = True
            else:
                self._settle(job)
        return busy

    def enqueue_chunk(self, requeue_id: str) -> bool:
        """One chunk in one transaction; False when the job has nothing left to enqueue."""
        with self.db.begin() as conn:
            job = conn.execute(
                select(requeues)
                .where(requeues.c.id == requeue_id, requeues.c.status == PROCESSING)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None or job.cursor_id >= job.upto_id:
                return False
            scope = scope_of(job)
            query = scope.query(ReplayFilter.from_json(job.filters), *_ENQUEUE_COLUMNS[job.kind])
            rows = repository.page(conn, job.kind, query, job.cursor_id, job.upto_id, self.chunk)
            if rows:
                self._copy(conn, job, rows)
            cursor = rows[-1].id if len(rows) == self.chunk else job.upto_id
            conn.execute(
                update(requeues)
                .where(requeues.c.id == job.id)
                .values(cursor_id=cursor, enqueued=requeues.c.enqueued + len(rows))
            )
        if rows:
            self.on_enqueued(job.kind)
        return cursor < job.upto_id

    @staticmethod
    def _copy(conn: Connection, job: Any, rows: list[Any]) -> None:
        now = time.time()
        if job.kind == CHANNEL:
            fresh = [
                {
                    "transaction_id": r.transaction_id,
                    "recipient_dip_id": r.recipient_dip_id,
                    "interface_id": r.interface_id,
                    "recipient_kind": r.recipient_kind,
                    "publication_id": r.publication_id,
                    "replay": True,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for r in rows
            ]
            hour_counts.change(conn, {r["transaction_id"] for r in fresh}, lambda found: _add_pending(found, fresh))
            ids = conn.execute(insert(deliveries).returning(deliveries.c.id), fresh).scalars().all()
            what = "re-delivery with replayIndicator true"
        else:
            fresh = [
                {
                    "status_message_id": r.id,
                    "recipient_dip_id": r.sender_dip_id,
                    "replay": True,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for r in rows
            ]
            ids = conn.execute(insert(status_deliveries).returning(status_deliveries.c.id), fresh).scalars().all()
            what = "L4 status re-delivery"
        conn.execute(insert(requeue_items), [{"requeue_id": job.id, "delivery_id": i} for i in ids])
        journal.record(
            conn,
            [
                journal.entry(
                    r.transaction_id,
                    journal.Stage.REPLAY,
                    journal.Replay.REQUEUED,
                    at=now,
                    recipient=job.recipient_dip_id,
                    reason=f"requeue {job.id}: {what}",
                )
                for r in rows
            ],
        )

    def _settle(self, job: Any) -> None:
        """Record the final status once every item has a final outcome (checked at most twice a second)."""
        now = time.monotonic()
        if now - self._settled_at.get(job.id, 0.0) < SETTLE_EVERY_SECONDS:
            return
        self._settled_at[job.id] = now
        with read_engine(self.db).connect() as conn:
            progress = progress_of(conn, job)
        if not progress.finished:
            return
        with self.db.begin() as conn:
            conn.execute(
                update(requeues)
                .where(requeues.c.id == job.id, requeues.c.status == PROCESSING)
                .values(
                    status=progress.final_status,
                    active_key=None,
                    finished_at=time.time(),
                    total=progress.total,
                    delivered=progress.delivered,
                    failed=progress.failed,
                )
            )
        self._settled_at.pop(job.id, None)
        log.info("requeue settled", requeue=job.id, status=progress.final_status, total=progress.total)


def _add_pending(found: dict[str, hour_counts.Stored], fresh: list[dict[str, Any]]) -> None:
    """The dashboard's hourly counts: each message gains a pending row to the recipient (ids not known yet)."""
    for index, row in enumerate(fresh):
        message = found.get(row["transaction_id"])
        if message is not None:
            message.rows[-1 - index] = [row["recipient_dip_id"], "pending", None]
