"""Passing L4 statuses on: the L4 kind of the delivery worker's outbox, a signed POST of a StandardResponse
to each original sender's status webhook.

The delivery worker (delivery/worker.py) sends them as it sends messages: the
hub's Signer, the pooled client, the same reading of 201/207/400 answers, the
same retry schedule, leases, pacing and circuit breakers shared by every
worker in the store (over their own table, since a status webhook is another
URL). What is the L4 kind's own is here: the body (a messageArray of the
statuses as received), one batch per sender in flight at a time (a slow sender
only delays its own statuses), never two statuses about one transaction in a
batch (the sender's answer is keyed by transactionID), and the journal's words
(outbox_store.L4): the shared settle step (delivery/settle.py) writes the
StatusMessage stage's Delivered, DeliveryFailure, Retrying,
UnknownDeliveryStatus and Paused.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from opendip.core.reads import read_engine
from opendip.core.responses import dip_timestamp
from opendip.db.engine import Database
from opendip.delivery.attempts import STATUS
from opendip.delivery.kind import Batch, BatchPlan
from opendip.delivery.outbox import Settled
from opendip.delivery.outbox_repository import GroupKey
from opendip.delivery.webhooks import Webhook
from opendip.status import metrics
from opendip.status.outbox_store import L4, ClaimedStatus, status_repository, status_webhook

NO_WEBHOOK = "no status webhook configured (/statusmessage/config)"


def status_body(rows: Sequence[ClaimedStatus]) -> bytes:
    stamp = orjson.dumps(dip_timestamp())
    return b'{"messageArray":[' + b",".join(bytes(r.item) for r in rows) + b'],"timestamp":' + stamp + b"}"


def one_per_transaction(rows: Sequence[ClaimedStatus], limit: int) -> tuple[list[ClaimedStatus], list[int]]:
    """Up to `limit` rows with distinct transactionIDs, and the ids of the rest (sent in a later batch)."""
    batch: list[ClaimedStatus] = []
    seen: set[str] = set()
    later: list[int] = []
    for row in rows:
        if row.transaction_id in seen or len(batch) >= limit:
            later.append(row.id)
            continue
        seen.add(row.transaction_id)
        batch.append(row)
    return batch, later


class StatusKind:
    """L4 status deliveries as a kind of outbox row, handed to the delivery worker where the hub is wired."""

    name = STATUS
    no_webhook = NO_WEBHOOK
    wording = L4

    def __init__(self, db: Database) -> None:
        self.db = db
        self.repository = status_repository(db)

    def concurrency(self, configured: int) -> int:
        return 1  # one batch per sender in flight: a status never overtakes an earlier one about its transaction

    def webhook(self, group: GroupKey) -> Webhook | None:
        with read_engine(self.db).connect() as conn:
            return status_webhook(conn, group[0])

    def plan(self, rows: Sequence[ClaimedStatus], hook: Webhook) -> BatchPlan:
        batch, later = one_per_transaction(rows, hook.max_message_count)
        return BatchPlan([Batch(batch, status_body(batch))] if batch else [], later=later)

    def observe(self, rows: Sequence[ClaimedStatus], settled: Sequence[Settled]) -> None:
        delivered = sum(1 for s in settled if s.state == "delivered")
        metrics.L4_DELIVERED.inc(delivered)
        for s in settled:
            if s.state != "delivered":
                metrics.L4_FAILED.labels(outcome=s.state).inc()

    def gauges(self) -> None:
        """L4 statuses have no gauges of their own."""
