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

    The first refresh of a day counts through the received-time index; later
    ones read only rows with a higher id than any seen, so the cost follows
    the new traffic, not the day's total.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._day = 0.0
        self._last_id: int | None = None
        self._counts: dict[str, int] = {}

    def used(self, dip_id: str) -> int:
        return self._counts.get(dip_id, 0) if self._day == utc_day_start(self._clock()) else 0

    def refresh(self) -> None:
        now = self._clock()
        day = utc_day_start(now)
        if day != self._day:
            self._day, self._last_id, self._counts = day, None, {}
        m = messages.c
        query = select(m.sender_dip_id, func.count(), func.max(m.id)).where(m.received_at >= day)
        if self._last_id is not None:
            query = query.where(m.id > self._last_id)
        with self._db.engine.connect() as conn:
            rows = conn.execute(query.group_by(m.sender_dip_id)).all()
        counts = dict(self._counts)
        last = self._last_id or 0
        for sender, count, top in rows:
            counts[sender] = counts.get(sender, 0) + int(count)
            last = max(last, int(top))
        self._counts = counts
        self._last_id = last
