"""Passing L4 statuses on: a signed POST of a StandardResponse to each original sender's status webhook.

It follows message delivery's conventions (the hub's Signer, the pooled
WebhookClient, the same reading of 201/207/400 answers, the same retry
schedule, the same circuit breaker shared by every worker in the store, over its own
table since a status webhook is another URL) and journals every attempt under the StatusMessage stage:
Delivered, DeliveryFailure, Retrying, UnknownDeliveryStatus, Paused. One
batch per sender is in flight at a time, so a slow sender only delays its
own statuses. A batch never carries two statuses about the same transaction,
because the sender's answer is keyed by transactionID.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import orjson
import structlog

from opendip.config import Settings
from opendip.core.journal import Outbound, Stage, StatusMessage, entry
from opendip.core.loops import Loop
from opendip.core.responses import dip_timestamp
from opendip.db.engine import Database
from opendip.delivery.attempts import STATUS, Attempt, attempt_row
from opendip.delivery.client import HttpResult, WebhookClient
from opendip.delivery.outcome import TxOutcome, Verdict, classify
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.shared_breaker import SharedBreaker
from opendip.delivery.tables import status_breakers
from opendip.delivery.worker import default_owner, wind_down
from opendip.pki.signing import Signer
from opendip.status import metrics
from opendip.status.outbox_store import ClaimedStatus, StatusHook, StatusOutbox, StatusResolution

log = structlog.get_logger(__name__)

NO_WEBHOOK = "no status webhook configured (/statusmessage/config)"
HOLD_SECONDS = 30.0
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
) -> StatusResolution:
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
    ) -> StatusResolution:
        tried = Attempt(started, finished, http, retry_after=retry_after)
        attempt = attempt_row(
            STATUS, row.id, row.transaction_id, row.recipient_dip_id, number, tried, notes[0]["status"], state, error
        )
        return StatusResolution(row.id, state, number, next_at, delivered, http, error, tuple(notes), attempt)

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


class StatusDeliveryWorker:
    def __init__(
        self, db: Database, settings: Settings, signer: Signer, *, client: WebhookClient | None = None
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.owner = default_owner()[:64]
        self.outbox = StatusOutbox(db)
        self.policy = RetryPolicy.from_settings(settings)
        self.breaker = SharedBreaker(db, settings, self.owner, table=status_breakers)
        self.client = client or WebhookClient(user_agent="OpenDIP-status")
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner = Loop("status-delivery", self.run_once, settings.delivery_poll_seconds)

    async def start(self) -> None:
        if not self._runner.running:
            await self.client.start()
            self._runner.start()

    async def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; let in-flight POSTs finish (up to `timeout`), then give back every lease still ours.

        As the message worker does: statuses cut off by the timeout are re-sent at once by any
        worker, not when their lease runs out. If the store is down the leases simply expire.
        """
        await self._runner.cancel()
        limit = self.settings.delivery_timeout_seconds + 5.0 if timeout is None else timeout
        await wind_down(self._tasks, limit, self.outbox.release_all, self.owner, "L4 status worker")
        await self.client.close()

    def wake(self) -> None:
        """Safe from any thread."""
        self._runner.wake()

    async def run_once(self) -> list[asyncio.Task[None]]:
        """Start one batch for every sender with due statuses and nothing in flight."""
        started: list[asyncio.Task[None]] = []
        await asyncio.to_thread(self.breaker.refresh)
        for recipient in await asyncio.to_thread(self.outbox.due_recipients):
            if recipient in self._busy or self.breaker.allowance(recipient, 1) == 0:
                continue  # one batch in flight per sender; none while its status webhook's circuit is open
            hook = await asyncio.to_thread(self.outbox.webhook, recipient)
            if hook is None:
                limit = self.settings.delivery_claim_batch
                await asyncio.to_thread(self.outbox.hold, recipient, time.time() + HOLD_SECONDS, NO_WEBHOOK, limit)
                continue
            limit = min(self.settings.delivery_claim_batch, hook.max_message_count)
            rows = await asyncio.to_thread(
                self.outbox.claim, recipient, limit, self.owner, self.settings.delivery_lease_seconds
            )
            batch, later = one_per_transaction(rows, limit)
            await asyncio.to_thread(self.outbox.release, later, self.owner)
            if batch:
                self._busy.add(recipient)
                task = asyncio.create_task(self._deliver(recipient, hook, batch))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                started.append(task)
        return started

    async def _deliver(self, recipient: str, hook: StatusHook, rows: list[ClaimedStatus]) -> None:
        try:
            body = status_body(rows)
            started = time.time()
            headers = self.signer.headers("POST", hook.callback_url, body)
            headers["Content-Type"] = "application/json"
            result: HttpResult = await self.client.post(
                hook.callback_url, body, headers, self.settings.delivery_timeout_seconds
            )
            finished = time.time()
            verdict = classify(result, [r.transaction_id for r in rows])
            await self.breaker.heed(recipient, verdict.recipient_failed, verdict.recipient_alive)
            resolutions = [
                settle_status(
                    r,
                    verdict.outcomes[r.transaction_id],
                    started,
                    finished,
                    result.status,
                    self.policy,
                    result.retry_after_seconds,
                )
                for r in rows
            ]
            await asyncio.to_thread(self.outbox.record, resolutions, self.owner)
            delivered = sum(1 for r in resolutions if r.state == "delivered")
            metrics.L4_DELIVERED.inc(delivered)
            for r in resolutions:
                if r.state != "delivered":
                    metrics.L4_FAILED.labels(outcome=r.state).inc()
            log.info(
                "status delivery",
                recipient=recipient,
                http_status=result.status,
                error=result.error,
                delivered=delivered,
                total=len(rows),
            )
        except Exception:
            log.exception("could not deliver or record L4 statuses; the lease will expire and they are re-sent")
        finally:
            self._busy.discard(recipient)
            self.wake()
