"""The delivery worker: one dispatcher loop for every outbox kind, one asyncio task per batch in flight.

Each round the dispatcher claims due rows of every kind it serves (message
deliveries and L4 status deliveries; kind.py says what a kind brings) per
group, and hands each batch to its own task. Every kind has its own lane: its
own per-recipient slots, circuit breakers (shared by every worker process
through the store, shared_breaker.py), pace and due-group cache, so a backlog
of one kind never takes the slots of the other, and a slow or dead recipient
only ever occupies its own slots (at most the kind's concurrency per
recipient, one while its circuit is half-open, none while open). The kinds
take turns to be claimed first. Database work runs in threads
(`asyncio.to_thread`) so the event loop only waits on sockets.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
import uuid
from collections.abc import Sequence
from typing import Any

import structlog

from opendip.config import Settings
from opendip.core.loops import Loop
from opendip.db.engine import Database
from opendip.delivery.attempts import MESSAGE, Attempt
from opendip.delivery.breaker import BreakerSnapshot
from opendip.delivery.client import HttpResult, WebhookClient
from opendip.delivery.kind import Batch, OutboxKind
from opendip.delivery.lane import Lane, limits
from opendip.delivery.message_kind import MessageKind
from opendip.delivery.outbox import Settled
from opendip.delivery.outbox_repository import GroupKey
from opendip.delivery.outcome import classify, exception_outcome
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.settle import settle
from opendip.delivery.shared_breaker import SharedBreaker
from opendip.delivery.webhooks import Webhook
from opendip.pki.signing import Signer

log = structlog.get_logger(__name__)

HOLD_SECONDS = 30.0
DEPTH_EVERY_SECONDS = 5.0


def default_owner() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DeliveryWorker:
    """Claims and sends due rows of every kind in `kinds` (message deliveries alone unless given)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        signer: Signer,
        *,
        kinds: Sequence[OutboxKind] | None = None,
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
        self.policy = policy or RetryPolicy.from_settings(settings)
        self.client = client or WebhookClient(ssl_context=ssl_context)
        self.lanes = {k.name: Lane(k, db, settings, self.owner) for k in (kinds or [MessageKind(db, settings)])}
        self._tasks: set[asyncio.Task[None]] = set()
        self._turn = 0
        self._dispatcher = Loop(f"delivery-dispatcher-{self.owner}", self._round, settings.delivery_poll_seconds)
        self._depth_at = 0.0

    @property
    def breaker(self) -> SharedBreaker:
        """The first kind's circuits (the message webhooks' unless the worker serves other kinds only)."""
        return next(iter(self.lanes.values())).breaker

    async def start(self) -> None:
        """Start the dispatcher loop in the running event loop."""
        if self._dispatcher.running:
            return
        await self.client.start()
        self._dispatcher.start()

    async def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; let in-flight POSTs finish (up to `timeout`), then close the pool.

        Batches cut off by the timeout are cancelled and every row still leased to us goes back at
        once, so any worker (or this one restarted) re-sends them: at-least-once, never lost, and
        never stuck claimed until a lease runs out. If the store is down the leases stay and expire.
        """
        await self._dispatcher.stop()
        limit = self.settings.delivery_timeout_seconds + 5.0 if timeout is None else timeout
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=limit)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for lane in self.lanes.values():
            try:
                released = await asyncio.to_thread(lane.kind.repository.release_all, self.owner)
            except Exception as exc:  # the store is down: the leases expire instead
                log.warning("claims not released at shutdown", kind=lane.kind.name, error=str(exc)[:200])
            else:
                log.info("delivery worker stopped", kind=lane.kind.name, owner=self.owner, released=released)
        await self.client.close()

    def wake(self, kind: str | None = None) -> None:
        """Deliver now rather than at the next poll (one kind, or all); safe to call from any thread."""
        for lane in self.lanes.values():
            if kind is None or lane.kind.name == kind:
                lane.woken = True
        self._dispatcher.wake()

    async def run_once(self) -> int:
        """One claim round of every kind, waiting for its batches to be settled; returns the rows tried."""
        count, tasks = await self.start_round()
        if tasks:
            await asyncio.gather(*tasks)
        return count

    async def start_round(self) -> tuple[int, list[asyncio.Task[None]]]:
        """One claim round of every kind that looks afresh for due work; returns the rows tried and their tasks."""
        self.wake()
        return await self._round()

    def breaker_snapshot(self, kind: str = MESSAGE) -> dict[str, BreakerSnapshot]:
        lane = self.lanes.get(kind)
        return {} if lane is None else lane.breaker.snapshot()

    def breaker_snapshots(self) -> dict[str, dict[str, BreakerSnapshot]]:
        """Every kind's circuits (kind name -> recipient -> circuit), in the order the kinds were given."""
        return {name: lane.breaker.snapshot() for name, lane in self.lanes.items()}

    async def _round(self) -> tuple[int, list[asyncio.Task[None]]]:
        now = time.time()
        if now - self._depth_at >= DEPTH_EVERY_SECONDS:
            self._depth_at = now
            for lane in self.lanes.values():
                await asyncio.to_thread(lane.kind.gauges)
        lanes = list(self.lanes.values())
        self._turn = (self._turn + 1) % len(lanes)  # the kinds take turns to be claimed first
        count = 0
        tasks: list[asyncio.Task[None]] = []
        for lane in lanes[self._turn :] + lanes[: self._turn]:
            claimed, started = await self._claim(lane)
            count += claimed
            tasks += started
        return count, tasks

    async def _claim(self, lane: Lane) -> tuple[int, list[asyncio.Task[None]]]:
        kind, repository = lane.kind, lane.kind.repository
        if lane.breaker.refresh_due():
            await asyncio.to_thread(lane.breaker.refresh)
        woken, lane.woken = lane.woken, False  # before the clock is read: rows of a later wake are seen next round
        now = time.time()
        if lane.stale(now, self.settings.delivery_poll_seconds, woken):
            lane.found(await asyncio.to_thread(repository.due_groups, now), now)
        elif woken:
            lane.woken = True  # not looked at yet: the next round that finds the lane idle looks
        slots = lane.allocate(kind.concurrency(self.settings.delivery_concurrency_per_recipient))
        lane.productive = False
        if not slots:
            return 0, []
        hooks, claimed, lease_ends = await asyncio.to_thread(self._hooks_and_claim, kind, slots, lane.allowances(slots))
        tasks: list[asyncio.Task[None]] = []
        leftover: list[int] = []
        count = 0
        for group, rows in claimed.items():
            hook = hooks[group]
            assert hook is not None
            lane.pacer.spend(group[0], len(rows))
            plan = kind.plan(rows, hook)
            leftover += plan.later
            if plan.broken:
                count += len(plan.broken)
                await self._settle_broken(lane, plan.broken)
            for index, batch in enumerate(plan.batches):
                if index >= slots[group]:
                    leftover.extend(row.id for row in batch.deliveries)
                    continue
                count += len(batch.deliveries)
                tasks.append(self._spawn(lane, group[0], hook, batch, lease_ends))
            lane.served(group)
        if leftover:  # more batches than free slots (size splits, one status per transaction): others may take them
            await asyncio.to_thread(repository.release, leftover, self.owner)
        lane.productive = count > 0
        return count, tasks

    def _hooks_and_claim(
        self, kind: OutboxKind, slots: dict[GroupKey, int], allowances: dict[str, int | None]
    ) -> tuple[dict[GroupKey, Webhook | None], dict[GroupKey, list[Any]], float]:
        """In a thread, one hop a round: the groups' webhooks (cached), holds where there is none, the claim
        (and when its leases end)."""
        repository, claim_batch = kind.repository, self.settings.delivery_claim_batch
        hooks = {g: kind.webhook(g) for g in slots}
        for group in (g for g in slots if hooks[g] is None):
            repository.hold(group, time.time() + HOLD_SECONDS, kind.no_webhook, claim_batch)
        wanted = limits(
            {g: (n, hook) for g, n in slots.items() if (hook := hooks[g]) is not None}, claim_batch, allowances
        )
        now, lease = time.time(), self.settings.delivery_lease_seconds
        return hooks, repository.claim(wanted, self.owner, lease, now=now), now + lease

    def _spawn(self, lane: Lane, recipient: str, hook: Webhook, batch: Batch, lease_ends: float) -> asyncio.Task[None]:
        lane.inflight[recipient] += 1
        task = asyncio.create_task(self._deliver(lane, recipient, hook, batch, lease_ends))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _post_timeout(self, lease_ends: float, now: float) -> float:
        """How long this POST may wait for its answer: the delivery timeout, cut short so the rows' lease
        outlives the request and its settle (half the lease's margin over the timeout is kept for the
        settle). A worker starved between its claim and its POST gets less, or none: not sending then
        is what keeps another worker, which may re-claim the rows once the lease is gone, from sending
        them at the same time."""
        timeout, lease = self.settings.delivery_timeout_seconds, self.settings.delivery_lease_seconds
        return min(timeout, lease_ends - now - (lease - timeout) / 2)

    async def _deliver(self, lane: Lane, recipient: str, hook: Webhook, batch: Batch, lease_ends: float) -> None:
        kind = lane.kind
        try:
            started = time.time()
            timeout = self._post_timeout(lease_ends, started)
            if timeout <= 0:
                log.warning(
                    "lease nearly gone before the POST: rows given back unsent",
                    kind=kind.name,
                    recipient=recipient,
                    owner=self.owner,
                    rows=len(batch.deliveries),
                )
                ids = [row.id for row in batch.deliveries]
                await asyncio.to_thread(kind.repository.release, ids, self.owner)
                return
            try:
                headers = self.signer.headers("POST", hook.callback_url, batch.body)
                headers["Content-Type"] = "application/json"
                if batch.mpo:
                    headers["X-DIP-MPO"] = batch.mpo
                result = await self.client.post(hook.callback_url, batch.body, headers, timeout)
                verdict = classify(result, batch.transaction_ids)
            except Exception as exc:  # a fault of ours, not the recipient's: journal it and retry later
                log.exception("delivery attempt failed", kind=kind.name, recipient=recipient, owner=self.owner)
                result = HttpResult(status=None, error=f"{type(exc).__name__}: {exc}")
                verdict = exception_outcome(batch.transaction_ids, result.error or "")
            await lane.breaker.heed(recipient, verdict.recipient_failed, verdict.recipient_alive)
            attempt = Attempt(started, time.time(), result.status, batch.note, result.retry_after_seconds)
            settled = settle(batch.deliveries, verdict.outcomes, attempt, self.policy, kind.wording)
            if any(o.min_delay is not None for o in verdict.outcomes.values()):  # it asked us to wait: all of it
                due = [s.next_attempt_at for s in settled if s.state == "pending"]
                if due:
                    lane.pacer.pause(recipient, min(due))
            await self._record(lane, batch.deliveries, settled)
            log.info(
                "delivery attempt",
                kind=kind.name,
                recipient=recipient,
                http_status=result.status,
                error=result.error,
                duration_ms=round((attempt.finished_at - attempt.started_at) * 1000, 1),
                outcomes=_outcomes_by_transaction(batch.deliveries, settled),
            )
        except Exception:
            log.exception("could not record a delivery outcome; the lease will expire and it is re-sent")
        finally:
            lane.inflight[recipient] -= 1
            self.wake(kind.name)

    async def _settle_broken(self, lane: Lane, broken: Sequence[tuple[Any, str]]) -> None:
        now = time.time()
        rows = [row for row, _ in broken]
        settled: list[Settled] = []
        for row, reason in broken:
            outcome = exception_outcome([row.transaction_id], reason).outcomes
            settled += settle([row], outcome, Attempt(now, now, None), self.policy, lane.kind.wording)
        await self._record(lane, rows, settled)

    async def _record(self, lane: Lane, rows: Sequence[Any], settled: list[Settled]) -> None:
        await lane.outcomes.record(settled)  # with other batches finishing now, in one thread hop
        lane.kind.observe(rows, settled)


def _outcomes_by_transaction(rows: Sequence[Any], settled: Sequence[Settled]) -> dict[str, str]:
    """transactionID -> new row state, for the log line of one attempt."""
    by_id = {row.id: row.transaction_id for row in rows}
    return {by_id.get(s.id, str(s.id)): str(s.state) for s in settled}
