"""The delivery worker: one dispatcher loop, one asyncio task per batch in flight.

The dispatcher claims due rows per (recipient, interface) and hands each batch
to its own task, so a slow or dead recipient only ever occupies its own slots
(at most `delivery_concurrency_per_recipient` batches, one while its circuit
is half-open, none while open) and never delays anyone else. Database work
runs in threads (`asyncio.to_thread`) so the event loop only waits on sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Sequence

import structlog

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery import metrics
from opendip.delivery.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from opendip.delivery.client import HttpResult, WebhookClient
from opendip.delivery.egress import Batch, plan_batches
from opendip.delivery.outcome import classify, exception_outcome
from opendip.delivery.repository import (
    ClaimedDelivery,
    DeliveryRepository,
    GroupKey,
    Resolution,
)
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.settle import Attempt, settle
from opendip.delivery.webhooks import Webhook, WebhookResolver
from opendip.pki.signing import Signer

log = structlog.get_logger(__name__)

NO_WEBHOOK = "no webhook configured"
HOLD_SECONDS = 30.0
DEPTH_EVERY_SECONDS = 5.0


def default_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        signer: Signer,
        *,
        owner: str | None = None,
        client: WebhookClient | None = None,
        ssl_context: ssl.SSLContext | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        if settings.delivery_lease_seconds <= settings.delivery_timeout_seconds:
            raise ValueError(
                "delivery_lease_seconds must exceed delivery_timeout_seconds, or a slow POST's rows "
                "are re-claimed and sent twice while it is still in flight"
            )
        self.settings = settings
        self.signer = signer
        self.owner = (owner or default_owner())[:64]
        self.repository = DeliveryRepository(db)
        self.resolver = WebhookResolver(db, settings)
        self.breaker = CircuitBreaker.from_settings(settings)
        self.policy = policy or RetryPolicy.from_settings(settings)
        self.client = client or WebhookClient(ssl_context=ssl_context)
        self._inflight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_served: dict[GroupKey, float] = {}
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._depth_at = 0.0

    async def start(self) -> None:
        """Start the dispatcher loop in the running event loop."""
        if self._dispatcher is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        await self.client.start()
        self._dispatcher = asyncio.create_task(self._run(), name=f"delivery-dispatcher-{self.owner}")

    async def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; let in-flight POSTs finish (up to `timeout`), then close the pool.

        Batches cut off by the timeout keep their lease, which expires and
        lets any worker re-send them: at-least-once, never lost.
        """
        self._stopping = True
        self._wakeup.set()
        if self._dispatcher is not None:
            await self._dispatcher
            self._dispatcher = None
        if self._tasks:
            limit = self.settings.delivery_timeout_seconds + 5.0 if timeout is None else timeout
            _, pending = await asyncio.wait(set(self._tasks), timeout=limit)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self.client.close()

    def wake(self) -> None:
        """Deliver now rather than at the next poll; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wakeup.set()
        else:
            loop.call_soon_threadsafe(self._wakeup.set)

    async def run_once(self) -> int:
        """One claim round, waiting for its batches to be settled; returns the deliveries tried."""
        self._loop = asyncio.get_running_loop()
        count, tasks = await self._round()
        if tasks:
            await asyncio.gather(*tasks)
        return count

    def breaker_snapshot(self) -> dict[str, BreakerSnapshot]:
        return self.breaker.snapshot()

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self._round()
            except Exception:
                log.exception("delivery round failed", owner=self.owner)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.delivery_poll_seconds)

    async def _round(self) -> tuple[int, list[asyncio.Task[None]]]:
        now = time.time()
        if now - self._depth_at >= DEPTH_EVERY_SECONDS:
            self._depth_at = now
            metrics.outbox_depth(await asyncio.to_thread(self.repository.pending_count))
        groups = await asyncio.to_thread(self.repository.due_groups, now)
        slots = self._allocate(groups)
        if not slots:
            return 0, []
        hooks = await asyncio.to_thread(lambda: {g: self.resolver.resolve(*g) for g in slots})
        claim_batch = self.settings.delivery_claim_batch
        limits = [(g, min(claim_batch, n * hook.max_message_count)) for g, n in slots.items() if (hook := hooks[g])]
        for group in (g for g in slots if hooks[g] is None):
            await asyncio.to_thread(self.repository.hold, group, time.time() + HOLD_SECONDS, NO_WEBHOOK, claim_batch)
        claimed = await asyncio.to_thread(
            self.repository.claim, limits, self.owner, self.settings.delivery_lease_seconds
        )
        tasks: list[asyncio.Task[None]] = []
        leftover: list[int] = []
        count = 0
        for group, rows in claimed.items():
            hook = hooks[group]
            assert hook is not None
            plan = plan_batches(rows, hook.max_message_count, hook.max_payload_size)
            if plan.broken:
                count += len(plan.broken)
                await self._settle_broken(plan.broken)
            for index, batch in enumerate(plan.batches):
                if index >= slots[group]:
                    leftover.extend(row.id for row in batch.deliveries)
                    continue
                count += len(batch.deliveries)
                tasks.append(self._spawn(group, hook, batch))
            self._last_served[group] = time.monotonic()
        if leftover:  # more batches than free slots (size splits): others may take them now
            await asyncio.to_thread(self.repository.release, leftover, self.owner)
        return count, tasks

    def _allocate(self, groups: Sequence[GroupKey]) -> dict[GroupKey, int]:
        """Free batch slots per group: shared round-robin among one recipient's channels."""
        by_recipient: dict[str, list[GroupKey]] = {}
        for group in groups:
            by_recipient.setdefault(group[0], []).append(group)
        slots: dict[GroupKey, int] = {}
        for recipient, keys in by_recipient.items():
            state = self.breaker.state(recipient)
            if state is BreakerState.OPEN:
                continue
            cap = 1 if state is BreakerState.HALF_OPEN else self.settings.delivery_concurrency_per_recipient
            free = cap - self._inflight[recipient]
            keys.sort(key=lambda key: self._last_served.get(key, 0.0))
            for index in range(max(0, free)):
                key = keys[index % len(keys)]
                slots[key] = slots.get(key, 0) + 1
        return slots

    def _spawn(self, group: GroupKey, hook: Webhook, batch: Batch) -> asyncio.Task[None]:
        self._inflight[group[0]] += 1
        task = asyncio.create_task(self._deliver(group[0], hook, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(self, recipient: str, hook: Webhook, batch: Batch) -> None:
        try:
            started = time.time()
            try:
                headers = self.signer.headers("POST", hook.callback_url, batch.body)
                headers["Content-Type"] = "application/json"
                result = await self.client.post(
                    hook.callback_url, batch.body, headers, self.settings.delivery_timeout_seconds
                )
                verdict = classify(result, batch.transaction_ids)
            except Exception as exc:  # a fault of ours, not the recipient's: journal it and retry later
                log.exception("delivery attempt failed", recipient=recipient, owner=self.owner)
                result = HttpResult(status=None, error=f"{type(exc).__name__}: {exc}")
                verdict = exception_outcome(batch.transaction_ids, result.error or "")
            if verdict.recipient_failed:
                self.breaker.record_failure(recipient)
            elif verdict.recipient_alive:
                self.breaker.record_success(recipient)
            attempt = Attempt(started, time.time(), result.status, batch.note)
            resolutions = settle(batch.deliveries, verdict.outcomes, attempt, self.policy)
            await self._record(batch.deliveries, resolutions)
            log.info(
                "delivery attempt",
                recipient=recipient,
                http_status=result.status,
                error=result.error,
                duration_ms=round((attempt.finished_at - attempt.started_at) * 1000, 1),
                outcomes=_outcomes_by_transaction(batch.deliveries, resolutions),
            )
        except Exception:
            log.exception("could not record a delivery outcome; the lease will expire and it is re-sent")
        finally:
            self._inflight[recipient] -= 1
            self.wake()

    async def _settle_broken(self, broken: Sequence[tuple[ClaimedDelivery, str]]) -> None:
        now = time.time()
        rows = [row for row, _ in broken]
        resolutions: list[Resolution] = []
        for row, reason in broken:
            outcome = exception_outcome([row.transaction_id], reason).outcomes
            resolutions += settle([row], outcome, Attempt(now, now, None), self.policy)
        await self._record(rows, resolutions)

    async def _record(self, rows: Sequence[ClaimedDelivery], resolutions: list[Resolution]) -> None:
        await asyncio.to_thread(self.repository.record, resolutions, self.owner)
        metrics.observe(rows, resolutions)


def _outcomes_by_transaction(rows: Sequence[ClaimedDelivery], resolutions: Sequence[Resolution]) -> dict[str, str]:
    """transactionID -> new delivery state, for the log line of one attempt."""
    by_id = {row.id: row.transaction_id for row in rows}
    return {by_id.get(r.delivery_id, str(r.delivery_id)): str(r.state) for r in resolutions}
