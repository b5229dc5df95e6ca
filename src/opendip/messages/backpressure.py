"""Back-pressure: refuse sends (503 MSG5003 + Retry-After) while delivery cannot keep up.

The outbox grows without bound when senders offer more than the hub delivers;
every message accepted then waits minutes. Instead the hub refuses new work
from the senders whose own undelivered messages make up the backlog, while
others keep sending until the whole backlog reaches a hard limit.

Besides the counts and the oldest row's age, the backlog is read as time: pending rows over the rate
rows have lately left the queue (rows added, from the outbox's newest id, less the pending rows gained
between two reads). The age of the oldest row says too late that delivery fell behind: by the time it
passes 15 s, fifteen seconds of what senders offered are queued, minutes of delivery if delivery runs
slower than ingest; the queue in seconds says it as soon as it happens.

The figures come from one grouped query over pending deliveries (the partial
`ix_deliveries_pending` index), read at most every `refresh_seconds` per
process by whichever request finds them stale: the send path itself only
reads a dict. The cost of that query follows the backlog, which back-pressure
keeps bounded, and reads are spaced at least twenty times their own CPU time
apart (at most 5 s), so a large backlog slows the figures' refresh rather than
the hub; wall time would count the waits of a busy machine and keep stale
figures for tens of seconds, letting the backlog run far past the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from opendip.config import Settings
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.models import deliveries, messages
from opendip.errors import DipError, Msg

READ_SHARE = 20
"""Reads of the backlog are at least this many times their own CPU time apart."""
MAX_WAIT_SECONDS = 5.0
"""...and at most this far apart, so a sender is refused within seconds of its backlog passing the limit."""


@dataclass(frozen=True)
class Backlog:
    """Undelivered (pending) deliveries: per sender, and the hub-wide total."""

    total: int = 0
    per_sender: dict[str, tuple[int, float]] | None = None  # sender -> (pending rows, oldest created_at)
    highest_id: int = 0  # the outbox's newest row id: rows added since a previous read, from its primary key
    drain_per_s: float | None = None  # pending rows that left the queue per second lately (BackPressure.check)

    def of(self, sender: str) -> tuple[int, float | None]:
        found = (self.per_sender or {}).get(sender)
        return (found[0], found[1]) if found else (0, None)


@dataclass(frozen=True)
class Limits:
    max_pending: int  # per sender; 0 turns back-pressure off
    hard_limit: int  # all senders together
    max_age_seconds: float  # oldest undelivered, once a sender has more than a burst pending
    burst: int
    retry_after: int

    @classmethod
    def from_settings(cls, s: Settings) -> Limits:
        hard = s.backpressure_hard_limit or 4 * s.backpressure_max_pending
        return cls(
            s.backpressure_max_pending,
            hard,
            s.backpressure_max_age_seconds,
            max(1, s.backpressure_max_pending // 10),
            max(1, math.ceil(s.backpressure_retry_after_seconds)),
        )


def read_backlog(db: Database) -> Backlog:
    """Pending deliveries grouped by the sender of their message."""
    d, m = deliveries.c, messages.c
    query = (
        select(m.sender_dip_id, func.count(), func.min(d.created_at))
        .select_from(deliveries.join(messages, m.transaction_id == d.transaction_id))
        .where(d.state == "pending")
        .group_by(m.sender_dip_id)
    )
    with read_engine(db).connect() as conn:
        rows = conn.execute(query).all()
        highest = conn.execute(select(func.max(d.id))).scalar()
    per_sender = {str(sender): (int(count), float(oldest)) for sender, count, oldest in rows}
    return Backlog(sum(c for c, _ in per_sender.values()), per_sender, int(highest or 0))


def drained(before: Backlog, after: Backlog, seconds: float) -> float | None:
    """Pending rows that left the queue per second between two reads: rows added (the newest id moved on) less
    the pending rows gained. None when it cannot be told (too short an interval, no read before, nothing
    left the queue)."""
    if seconds < 0.2 or before.highest_id == 0:
        return None
    left = (after.highest_id - before.highest_id) - (after.total - before.total)
    return left / seconds if left > 0 else None


def verdict(limits: Limits, backlog: Backlog, sender: str, now: float) -> str | None:
    """Why `sender` must wait now, or None. Fair: the largest contributors are refused first."""
    if limits.max_pending <= 0:
        return None
    if backlog.total >= limits.hard_limit:
        return f"the hub has {backlog.total} undelivered messages, its hard limit is {limits.hard_limit}"
    pending, oldest = backlog.of(sender)
    if pending >= limits.max_pending:
        return f"{sender} has {pending} undelivered messages, the limit per sender is {limits.max_pending}"
    senders = len(backlog.per_sender or {})
    if backlog.total >= limits.max_pending and senders and pending * senders >= backlog.total:
        return (
            f"the hub has {backlog.total} undelivered messages (limit {limits.max_pending}) and {sender}'s "
            f"{pending} are at least its fair share"
        )
    if oldest is not None and pending >= limits.burst and now - oldest >= limits.max_age_seconds:
        return (
            f"{sender}'s oldest of {pending} undelivered messages waits {now - oldest:.0f} s, "
            f"the limit is {limits.max_age_seconds:g} s"
        )
    rate = backlog.drain_per_s
    if rate and pending >= limits.burst and senders and pending * senders >= backlog.total:
        ahead = backlog.total / rate
        if ahead >= limits.max_age_seconds:  # the queue as time: what is accepted now waits this long
            return (
                f"at the {rate:.0f} deliveries/s made lately the hub's {backlog.total} undelivered messages take "
                f"{ahead:.0f} s to deliver, the limit is {limits.max_age_seconds:g} s, and {sender}'s {pending} "
                "are at least its fair share"
            )
    return None


class BackPressure:
    """The per-process cached backlog and the check the send path makes against it."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._limits = Limits.from_settings(settings)
        self._refresh_seconds = settings.backpressure_refresh_seconds
        self._clock = clock
        self._backlog = Backlog()
        self._read_at = -math.inf
        self._wait = self._refresh_seconds
        self._lock = threading.Lock()

    def check(self, sender: str) -> None:
        """Raise 503 MSG5003 with Retry-After when `sender` must wait; called in a worker thread."""
        if self._limits.max_pending <= 0:
            return
        now = self._clock()
        if now - self._read_at >= self._wait and self._lock.acquire(blocking=False):
            try:  # one request refreshes; the others use the figures it last read
                began = time.thread_time()
                before, before_at = self._backlog, self._read_at
                backlog = read_backlog(self._db)
                rate = drained(before, backlog, now - before_at)
                self._backlog = replace(backlog, drain_per_s=rate if rate is not None else before.drain_per_s)
                self._read_at = now
                # the read follows the backlog's size: at most ~1/READ_SHARE of a core goes to it. Its CPU
                # time, not its wall time: on a busy machine the wall time is mostly waiting for a core (and
                # the GIL), which would space the reads out just when the figures matter most
                spent = time.thread_time() - began
                self._wait = min(MAX_WAIT_SECONDS, max(self._refresh_seconds, spent * READ_SHARE))
            finally:
                self._lock.release()
        reason = verdict(self._limits, self._backlog, sender, now)
        if reason is not None:
            raise DipError(
                Msg.UNAVAILABLE,
                f"back-pressure: delivery is behind, {reason}",
                retry_after=self._limits.retry_after,
            )
