"""The delivery worker: one dispatcher loop, one asyncio task per batch in flight.

The dispatcher claims due rows per (recipient, interface) and hands each batch
to its own task, so a slow or dead recipient only ever occupies its own slots
(at most `delivery_concurrency_per_recipient` batches, one while its circuit
is half-open, none while open) and never delays anyone else. The circuits are
shared by every worker process through the store (shared_breaker.py). Database
work runs in threads (`asyncio.to_thread`) so the event loop only waits on sockets.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence

import structlog

from opendip.config import Settings
from opendip.core.loops import Loop
from opendip.db.engine import Database
from opendip.delivery import metrics
from opendip.delivery.attempts import Attempt
from opendip.delivery.backlog import backlogs
from opendip.delivery.breaker import BreakerSnapshot
from opendip.delivery.client import HttpResult, WebhookClient
from opendip.delivery.egress import Batch, plan_batches
from opendip.delivery.outcome import classify, exception_outcome
from opendip.delivery.pacing import Pacer
from opendip.delivery.repository import (
    ClaimedDelivery,
    DeliveryRepository,
    DeliveryState,
    GroupKey,
    Resolution,
)
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.settle import settle
from opendip.delivery.shared_breaker import SharedBreaker
from opendip.delivery.webhooks import Webhook, WebhookResolver
from opendip.pki.signing import Signer

log = structlog.get_logger(__name__)

NO_WEBHOOK = "no webhook configured"
HOLD_SECONDS = 30.0
DEPTH_EVERY_SECONDS = 5.0
GROUPS_EVERY_SECONDS = 1.0
"""While rounds keep claiming, a (recipient, channel) with new work waits at most this long to be seen."""


def default_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def wind_down(
    tasks: set[asyncio.Task[None]], timeout: float, release_all: Callable[[str], int], owner: str, what: str
) -> None:
    """A stopping worker of either outbox kind: in-flight batches get `timeout`, then are cancelled,
    and every row still leased to `owner` goes back at once (re-sent by any worker, not after its
    lease: at-least-once, never stuck). If the store is down the leases stay and simply expire.
    """
    if tasks:
        _, pending = await asyncio.wait(set(tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    try:
        released = await asyncio.to_thread(release_all, owner)
    except Exception as exc:  # the store is down: the leases expire instead
        log.warning("claims not released at shutdown", worker=what, owner=owner, error=str(exc)[:200])
    else:
        log.info(f"{what} stopped", owner=owner, released=released)


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
        self.breaker = SharedBreaker(db, settings, self.owner)
        self.policy = policy or RetryPolicy.from_settings(settings)
        self.client = client or WebhookClient(ssl_context=ssl_context)
        self._inflight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_served: dict[GroupKey, float] = {}
        self.pacer = Pacer(settings.delivery_rate_per_recipient)
        self._dispatcher = Loop(f"delivery-dispatcher-{self.owner}", self._round, settings.delivery_poll_seconds)
        self._depth_at = 0.0
        self._groups: list[GroupKey] = []
        self._groups_at = 0.0
        self._productive = False  # the last round claimed something: its groups are worth asking again

    async def start(self) -> None:
        """Start the dispatcher loop in the running event loop."""
        if self._dispatcher.running:
            return
        await self.client.start()
        self._dispatcher.start()

    async def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; let in-flight POSTs finish (up to `timeout`), then close the pool.

        Batches cut off by the timeout are released at once, so any worker
        (or this one restarted) re-sends them: at-least-once, never lost, and
        never stuck claimed until a lease runs out. If the store is down the
        leases stay and simply expire.
        """
        await self._dispatcher.stop()
        limit = self.settings.delivery_timeout_seconds + 5.0 if timeout is None else timeout
        await wind_down(self._tasks, limit, self.repository.release_all, self.owner, "delivery worker")
        await self.client.close()

    def wake(self) -> None:
        """Deliver now rather than at the next poll; safe to call from any thread."""
        self._dispatcher.wake()

    async def run_once(self) -> int:
        """One claim round, waiting for its batches to be settled; returns the deliveries tried."""
        count, tasks = await self._round()
        if tasks:
            await asyncio.gather(*tasks)
        return count

    def breaker_snapshot(self) -> dict[str, BreakerSnapshot]:
        return self.breaker.snapshot()

    async def _round(self) -> tuple[int, list[asyncio.Task[None]]]:
        now = time.time()
        if now - self._depth_at >= DEPTH_EVERY_SECONDS:
            self._depth_at = now
            metrics.outbox_depth(await asyncio.to_thread(self.repository.pending_count))
            metrics.recipient_backlogs(await asyncio.to_thread(backlogs, self.repository.db))
        await asyncio.to_thread(self.breaker.refresh)
        if not self._productive or now - self._groups_at >= GROUPS_EVERY_SECONDS:
            # finding the groups reads every due row: under a backlog that is the costliest query of a
            # round, so busy rounds reuse the last answer and claim from those groups' own index range
            self._groups = await asyncio.to_thread(self.repository.due_groups, now)
            self._groups_at = now
        slots = self._allocate(self._groups)
        self._productive = False
        if not slots:
            return 0, []
        hooks = await asyncio.to_thread(lambda: {g: self.resolver.resolve(*g) for g in slots})
        claim_batch = self.settings.delivery_claim_batch
        allowance: dict[str, int | None] = {}
        limits = []
        for group, n in slots.items():
            hook = hooks[group]
            if hook is None:
                continue
            if group[0] not in allowance:
                allowance[group[0]] = self.pacer.allowance(group[0])
            limit = min(claim_batch, n * hook.max_message_count)
            left = allowance[group[0]]
            if left is not None:  # the recipient's drain rate: what is left of its allowance
                limit = min(limit, left)
                allowance[group[0]] = left - limit
            limits.append((group, limit))
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
            self.pacer.spend(group[0], len(rows))
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
        self._productive = count > 0
        return count, tasks

    def _allocate(self, groups: Sequence[GroupKey]) -> dict[GroupKey, int]:
        """Free batch slots per group: shared round-robin among one recipient's channels."""
        by_recipient: dict[str, list[GroupKey]] = {}
        for group in groups:
            by_recipient.setdefault(group[0], []).append(group)
        slots: dict[GroupKey, int] = {}
        now = time.time()
        for recipient, keys in by_recipient.items():
            cap = self.breaker.allowance(recipient, self.settings.delivery_concurrency_per_recipient)
            if cap == 0 or self.pacer.paused(recipient, now):
                continue  # open, or half-open while another worker sends the one probe, or asked to wait
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
                if batch.mpo:
                    headers["X-DIP-MPO"] = batch.mpo
                result = await self.client.post(
                    hook.callback_url, batch.body, headers, self.settings.delivery_timeout_seconds
                )
                verdict = classify(result, batch.transaction_ids)
            except Exception as exc:  # a fault of ours, not the recipient's: journal it and retry later
                log.exception("delivery attempt failed", recipient=recipient, owner=self.owner)
                result = HttpResult(status=None, error=f"{type(exc).__name__}: {exc}")
                verdict = exception_outcome(batch.transaction_ids, result.error or "")
            await self.breaker.heed(recipient, verdict.recipient_failed, verdict.recipient_alive)
            attempt = Attempt(started, time.time(), result.status, batch.note, result.retry_after_seconds)
            resolutions = settle(batch.deliveries, verdict.outcomes, attempt, self.policy)
            if any(o.min_delay is not None for o in verdict.outcomes.values()):  # it asked us to wait: all of it
                due = [r.next_attempt_at for r in resolutions if r.state is DeliveryState.PENDING]
                if due:
                    self.pacer.pause(recipient, min(due))
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
    return {by_id.get(r.id, str(r.id)): str(r.state) for r in resolutions}
