"""Counted snapshots: the dashboard's and participants page's numbers over big windows, recounted in the background.

Every number on those pages is an exact count with the filter it links to, and
counting costs a read of every message in the window: a few milliseconds for
a test hub, seconds for a day of national traffic. A page must answer in well
under a second whatever the store holds, so:

- while the window holds at most `live_limit` messages (found by a count that
  stops there, on the received-time index), the page is counted live, as before;
- beyond that the page shows a snapshot: counted once, then served from this
  process's memory and recounted in a background thread once it is older than
  `max_age` seconds. The page says when it was counted and how long counting
  took; its links carry the snapshot's own window, so each still opens the very
  rows it counted (as they are now).

The first view of a big window counts while the viewer waits (once per
process); every later one is a memory read. Each API process keeps its own
snapshots.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

import structlog
from sqlalchemy import Connection, func, select

from opendip.db.engine import Database
from opendip.db.models import deliveries, messages

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    value: T
    counted_at: float | None
    """None: counted live for this view; otherwise when the shown snapshot was counted."""
    seconds: float
    max_age: float = 0.0

    @property
    def live(self) -> bool:
        return self.counted_at is None


class Snapshots:
    """Values counted by `compute`, kept per key and recounted in the background when stale."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.time) -> None:
        self.max_age = max_age
        self._clock = clock
        self._kept: dict[Hashable, Snapshot[object]] = {}
        self._counting: set[Hashable] = set()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> Snapshot[T]:
        with self._lock:
            kept = self._kept.get(key)
            stale = kept is not None and self._clock() - (kept.counted_at or 0.0) >= self.max_age
            refresh = stale and key not in self._counting
            if refresh:
                self._counting.add(key)
        if kept is None:
            return self._count(key, compute)
        if refresh:
            threading.Thread(target=self._recount, args=(key, compute), name="portal-snapshot", daemon=True).start()
        return kept  # type: ignore[return-value]

    def _count(self, key: Hashable, compute: Callable[[], T]) -> Snapshot[T]:
        began = self._clock()
        started = time.perf_counter()
        value = compute()
        snapshot = Snapshot(value, began, time.perf_counter() - started, self.max_age)
        with self._lock:
            self._kept[key] = snapshot  # type: ignore[assignment]
            while len(self._kept) > 256:  # a viewer scope x window each: bounded, oldest out
                self._kept.pop(next(iter(self._kept)))
        return snapshot

    def _recount(self, key: Hashable, compute: Callable[[], object]) -> None:
        try:
            self._count(key, compute)
        except Exception as exc:  # the stale snapshot stays; the next view tries again
            log.warning("portal snapshot recount failed", key=str(key)[:120], error=str(exc)[:200])
        finally:
            with self._lock:
                self._counting.discard(key)


_by_db: WeakKeyDictionary[Database, Snapshots] = WeakKeyDictionary()
_by_db_lock = threading.Lock()


def snapshots_of(db: Database, max_age: float) -> Snapshots:
    """The process's snapshots for one store."""
    with _by_db_lock:
        found = _by_db.get(db)
        if found is None:
            found = _by_db[db] = Snapshots(max_age)
        found.max_age = max_age
        return found


def more_messages_than(conn: Connection, limit: int, since: float | None, until: float | None) -> bool:
    """Whether more than `limit` messages were received in [since, until): reads at most limit + 1 index entries."""
    query = select(messages.c.id)
    if since is not None:
        query = query.where(messages.c.received_at >= since)
    if until is not None:
        query = query.where(messages.c.received_at < until)
    bounded = query.limit(limit + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(bounded)).scalar_one()) > limit


def more_deliveries_than(conn: Connection, limit: int) -> bool:
    bounded = select(deliveries.c.id).limit(limit + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(bounded)).scalar_one()) > limit
