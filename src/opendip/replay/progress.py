"""A requeue's progress, as requeueStatus reports it.

While a job runs its counts are read live from the outbox rows it created
(one GROUP BY over its items); once settled, the stored counts are the
answer. `processedTransactions` counts items with a final outcome, delivered
or not; what is still waiting for a retry is neither processed nor lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, func, select

from opendip.core.responses import dip_timestamp
from opendip.db.models import deliveries
from opendip.replay.tables import requeue_items
from opendip.status.tables import status_deliveries

PROCESSING = "Processing"


@dataclass(frozen=True)
class Progress:
    requeue_id: str
    status: str
    total: int
    enqueued: int
    delivered: int
    failed: int
    pending: int
    enqueue_done: bool
    created_at: float
    finished_at: float | None
    error: str | None = None

    @property
    def processed(self) -> int:
        return self.delivered + self.failed

    @property
    def finished(self) -> bool:
        return self.enqueue_done and self.pending == 0

    @property
    def final_status(self) -> str:
        if self.failed == 0:
            return "Completed"
        return "PartialCompletion" if self.delivered else "Failed"

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else round(min(100.0, 100.0 * self.processed / self.total), 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "requeueId": self.requeue_id,
            "percentComplete": self.percent,
            "totalTransactions": self.total,
            "processedTransactions": self.processed,
            "status": self.status,
            "deliveredTransactions": self.delivered,
            "failedTransactions": self.failed,
            "pendingTransactions": max(0, self.total - self.processed),
            "createdTimestamp": dip_timestamp(self.created_at),
            "finishedTimestamp": dip_timestamp(self.finished_at) if self.finished_at else None,
            "error": self.error,
        }


def _outbox(kind: str) -> Table:
    return deliveries if kind == "channel" else status_deliveries


def progress_of(conn: Connection, requeue: Any) -> Progress:
    enqueue_done = requeue.cursor_id >= requeue.upto_id
    if requeue.status != PROCESSING:
        return Progress(
            requeue.id,
            requeue.status,
            requeue.total,
            requeue.enqueued,
            requeue.delivered,
            requeue.failed,
            0,
            True,
            requeue.created_at,
            requeue.finished_at,
            requeue.error,
        )
    outbox = _outbox(requeue.kind)
    query = (
        select(outbox.c.state, func.count())
        .select_from(requeue_items)
        .join(outbox, outbox.c.id == requeue_items.c.delivery_id)
        .where(requeue_items.c.requeue_id == requeue.id)
        .group_by(outbox.c.state)
    )
    counts: dict[str, int] = {state: count for state, count in conn.execute(query)}
    delivered = int(counts.pop("delivered", 0))
    pending = int(counts.pop("pending", 0))
    failed = int(sum(counts.values()))
    total = requeue.enqueued if enqueue_done else max(requeue.total, requeue.enqueued)
    return Progress(
        requeue.id,
        PROCESSING,
        total,
        requeue.enqueued,
        delivered,
        failed,
        pending,
        enqueue_done,
        requeue.created_at,
        None,
        requeue.error,
    )
