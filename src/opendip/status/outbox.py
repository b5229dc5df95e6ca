"""Passing L4 statuses on: the L4 kind of the delivery worker's outbox, a signed POST of a StandardResponse
to each original sender's status webhook.

The delivery worker (delivery/worker.py) sends them as it sends messages: the
hub's Signer, the pooled client, the same reading of 201/207/400 answers, the
same retry schedule, leases, pacing and circuit breakers shared by every
worker in the store (over their own table, since a status webhook is another
URL). What is the L4 kind's own is here: the body (a messageArray of the
statuses as received), one batch per sender in flight at a time (a slow sender
only delays its own statuses), never two statuses about one transaction in a
batch (the sender's answer is keyed by transactionID), and the journal under
the StatusMessage stage: Delivered, DeliveryFailure, Retrying,
UnknownDeliveryStatus, Paused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from opendip.core.journal import Outbound, Stage, StatusMessage, entry
from opendip.core.responses import dip_timestamp
from opendip.db.engine import Database
from opendip.delivery.attempts import STATUS, Attempt, attempt_row
from opendip.delivery.kind import Batch, BatchPlan
from opendip.delivery.outbox import Settled
from opendip.delivery.outbox_repository import GroupKey
from opendip.delivery.outcome import TxOutcome, Verdict
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.webhooks import Webhook
from opendip.status import metrics
from opendip.status.outbox_store import ClaimedStatus, status_repository, status_webhook

NO_WEBHOOK = "no status webhook configured (/statusmessage/config)"
_TERMINAL = {
    Verdict.DELIVERED: ("delivered", StatusMessage.DELIVERED),
    Verdict.REJECTED: ("rejected", StatusMessage.DELIVERY_FAILURE),
    Verdict.UNKNOWN: ("unknown", StatusMessage.UNKNOWN_DELIVERY_STATUS),
    Verdict.FAILED: ("exhausted", StatusMessage.DELIVERY_FAILURE),
}


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


def settle_status(
    row: ClaimedStatus,
    outcome: TxOutcome,
    started: float,
    finished: float,
    http: int | None,
    policy: RetryPolicy,
    retry_after: float | None = None,
) -> Settled:
    number = row.attempts + 1

    def note(status: StatusMessage, reason: str | None) -> dict[str, Any]:
        return entry(
            row.transaction_id,
            Stage.STATUS_MESSAGE,
            status,
            at=finished,
            recipient=row.recipient_dip_id,
            duration_ms=max(0.0, (finished - started) * 1000),
            delay_ms=max(0.0, (started - row.created_at) * 1000),
            http_status=http,
            attempt=number,
            reason=f"L4 from {row.reporter_dip_id}" + (f": {reason}" if reason else ""),
        )

    def settled(
        state: str, next_at: float, delivered: float | None, error: str | None, notes: Sequence[dict[str, Any]]
    ) -> Settled:
        tried = Attempt(started, finished, http, retry_after=retry_after)
        attempt = attempt_row(
            STATUS, row.id, row.transaction_id, row.recipient_dip_id, number, tried, notes[0]["status"], state, error
        )
        return Settled(row.id, state, number, next_at, delivered, http, error, tuple(notes), attempt)

    terminal = _TERMINAL.get(outcome.verdict)
    if terminal is not None:
        state, status = terminal
        delivered = finished if state == "delivered" else None
        error = None if delivered else outcome.reason
        return settled(state, row.next_attempt_at, delivered, error, (note(status, outcome.reason),))
    delay = policy.delay(number)
    if delay is None:
        reason = f"gave up after {number} attempts" + (f": {outcome.reason}" if outcome.reason else "")
        return settled(
            "exhausted", row.next_attempt_at, None, outcome.reason, (note(StatusMessage.DELIVERY_FAILURE, reason),)
        )
    if outcome.min_delay is not None:
        delay = max(delay, outcome.min_delay)
    when = f"attempt {number + 1} in {delay:.2g} s" if delay < 10 else f"attempt {number + 1} in {delay:.0f} s"
    notes = [note(StatusMessage.RETRYING, f"{outcome.reason}; {when}" if outcome.reason else when)]
    if outcome.status is not Outbound.RETRYING:
        notes.insert(0, note(StatusMessage.DELIVERY_FAILURE, outcome.reason))
    return settled("pending", finished + delay, None, outcome.reason, notes)


class StatusKind:
    """L4 status deliveries as a kind of outbox row, handed to the delivery worker where the hub is wired."""

    name = STATUS
    no_webhook = NO_WEBHOOK

    def __init__(self, db: Database) -> None:
        self.db = db
        self.repository = status_repository(db)

    def concurrency(self, configured: int) -> int:
        return 1  # one batch per sender in flight: a status never overtakes an earlier one about its transaction

    def webhook(self, group: GroupKey) -> Webhook | None:
        return status_webhook(self.db, group[0])

    def plan(self, rows: Sequence[ClaimedStatus], hook: Webhook) -> BatchPlan:
        batch, later = one_per_transaction(rows, hook.max_message_count)
        return BatchPlan([Batch(batch, status_body(batch))] if batch else [], later=later)

    def settle(
        self, rows: Sequence[ClaimedStatus], outcomes: Mapping[str, TxOutcome], attempt: Attempt, policy: RetryPolicy
    ) -> list[Settled]:
        began, ended, http, wait = attempt.started_at, attempt.finished_at, attempt.http_status, attempt.retry_after
        return [settle_status(r, outcomes[r.transaction_id], began, ended, http, policy, wait) for r in rows]

    def observe(self, rows: Sequence[ClaimedStatus], settled: Sequence[Settled]) -> None:
        delivered = sum(1 for s in settled if s.state == "delivered")
        metrics.L4_DELIVERED.inc(delivered)
        for s in settled:
            if s.state != "delivered":
                metrics.L4_FAILED.labels(outcome=s.state).inc()

    def gauges(self) -> None:
        """L4 statuses have no gauges of their own."""
