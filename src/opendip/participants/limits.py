"""Per-participant rate limits (token buckets) and daily message quotas, checked at the edge.

The rate limit is a token bucket per DIP ID in each API process: a request
costs one token, tokens refill at `rate_per_second` up to `burst`. With N API
nodes a participant may reach N times the rate; set the per-node figure
accordingly. The daily quota counts accepted messages per sender per UTC day
from the store itself (QuotaLedger), so it holds across nodes and restarts,
lagging by at most one refresh interval.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.models import messages


@dataclass(frozen=True)
class Limits:
    rate_per_second: float
    burst: int
    daily_quota: int | None


class TokenBucket:
    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.tokens = float(self.burst)
        self.updated = now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one will be there."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate if self.rate > 0 else math.inf


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def wait_needed(self, dip_id: str, limits: Limits) -> float:
        """Seconds the caller must wait before this request is allowed (0 = go now)."""
        if limits.rate_per_second <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(dip_id)
            if bucket is None or bucket.rate != limits.rate_per_second or bucket.burst != max(1, limits.burst):
                bucket = self._buckets[dip_id] = TokenBucket(limits.rate_per_second, limits.burst, now)
            return bucket.take(now)


def utc_day_start(at: float) -> float:
    moment = datetime.fromtimestamp(at, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def seconds_to_midnight(at: float) -> float:
    return utc_day_start(at) + timedelta(days=1).total_seconds() - at


class QuotaLedger:
    """Messages accepted today per sender, read incrementally from the messages table.

    Ids are handed out when a row is inserted but become visible when its
    transaction commits, and on PostgreSQL concurrent transactions commit out
    of id order: a reader that only ever asks for "ids above the highest seen"
    would skip a row committed late under a lower id, for good. So the ledger
    keeps two parts: a settled part, counted once, of rows received more than
    `settle_seconds` ago (no accepting transaction stays open that long), and a
    tail above it that is counted afresh at every refresh. The cost of a
    refresh follows the last `settle_seconds` of traffic, not the day's total.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time, settle_seconds: float = 60.0) -> None:
        self._db = db
        self._clock = clock
        self._settle = settle_seconds
        self._day = 0.0
        self._settled_id = 0
        self._settled: dict[str, int] = {}
        self._counts: dict[str, int] = {}

    def used(self, dip_id: str) -> int:
        return self._counts.get(dip_id, 0) if self._day == utc_day_start(self._clock()) else 0

    def refresh(self) -> None:
        now = self._clock()
        day = utc_day_start(now)
        if day != self._day:
            self._day, self._settled_id, self._settled = day, 0, {}
        m = messages.c
        today = (m.received_at >= day, m.id > self._settled_id)
        with read_engine(self._db).connect() as conn:
            settle_to = conn.execute(select(func.max(m.id)).where(*today, m.received_at < now - self._settle)).scalar()
            settled = dict(self._settled)
            if settle_to is not None:
                newly = conn.execute(
                    select(m.sender_dip_id, func.count()).where(*today, m.id <= settle_to).group_by(m.sender_dip_id)
                ).all()
                for sender, count in newly:
                    settled[sender] = settled.get(sender, 0) + int(count)
            tail_from = settle_to if settle_to is not None else self._settled_id
            tail = conn.execute(
                select(m.sender_dip_id, func.count())
                .where(m.received_at >= day, m.id > tail_from)
                .group_by(m.sender_dip_id)
            ).all()
        counts = dict(settled)
        for sender, count in tail:
            counts[sender] = counts.get(sender, 0) + int(count)
        self._settled, self._settled_id, self._counts = settled, tail_from, counts
