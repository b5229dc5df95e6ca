"""Group commit: the writes of many threads in one transaction, each caller answered only once it is durable.

Under load most of a small transaction's cost is the transaction itself: taking
SQLite's write lock, writing the touched index pages to the WAL at commit and
checkpointing them back (PostgreSQL: a WAL flush and a round trip per commit).
Callers queue their items; the first caller finding no writer busy becomes the
leader, takes everything queued (up to `max_size`) and writes it in one
transaction, while later callers queue for the next one. An idle hub adds no
wait: a lone caller leads at once and writes its own item alone.

Nothing is answered before the commit that holds it. When a shared transaction
fails it is rolled back whole and every caller in it is told to write its item
on its own, so one caller's fault (a duplicate, a bad row) never becomes a
neighbour's error; a caller that was alone in its transaction gets its error.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from sqlalchemy import Connection

from opendip.db.engine import Database

T = TypeVar("T")


class _State(Enum):
    QUEUED = 0
    COMMITTED = 1
    FAILED = 2


@dataclass(eq=False)
class _Slot(Generic[T]):
    item: T
    size: int
    state: _State = _State.QUEUED
    error: BaseException | None = None


class GroupCommit(Generic[T]):
    def __init__(
        self,
        db: Database,
        write: Callable[[Connection, T], None],
        *,
        write_group: Callable[[Connection, list[T]], None] | None = None,
        size: Callable[[T], int] = lambda _: 1,
        max_size: int = 1000,
        writers: int = 1,
        urgent: bool = False,
    ) -> None:
        """`write(conn, item)` adds one item to an open transaction (`write_group(conn, items)`, when given, adds
        every item of one at once); `size(item)` counts towards `max_size`
        per transaction; `writers` transactions may be open at once (1 suits SQLite's single writer)."""
        self._db = db
        self._write = write
        self._write_group = write_group
        self._size = size
        self._max_size = max_size
        self._writers = writers
        self._urgent = urgent
        self._cond = threading.Condition()
        self._queue: deque[_Slot[T]] = deque()
        self._writing = 0

    def commit(self, item: T) -> bool:
        """Return True once `item` is committed. False: the transaction it shared failed and was rolled
        back, so the caller writes `item` on its own. Raises what writing it failed with when it was alone."""
        slot = _Slot(item, max(1, self._size(item)))
        with self._cond:
            self._queue.append(slot)
            while slot.state is _State.QUEUED:
                if self._writing < self._writers and self._queue:
                    self._lead()
                else:
                    self._cond.wait()
        if slot.error is not None:
            raise slot.error
        return slot.state is _State.COMMITTED

    def _lead(self) -> None:
        """Write what is queued (called holding the condition; released while writing)."""
        group = [self._queue.popleft()]
        total = group[0].size
        while self._queue and total + self._queue[0].size <= self._max_size:
            total += self._queue[0].size
            group.append(self._queue.popleft())
        self._writing += 1
        self._cond.release()
        error: BaseException | None = None
        try:
            with self._db.begin(urgent=self._urgent) as conn:
                if self._write_group is not None:
                    self._write_group(conn, [slot.item for slot in group])
                else:
                    for slot in group:
                        self._write(conn, slot.item)
        except BaseException as exc:  # handed to the callers: each is told, none waits forever
            error = exc
        finally:
            self._cond.acquire()
            self._writing -= 1
            for slot in group:
                slot.state = _State.COMMITTED if error is None else _State.FAILED
            if error is not None and len(group) == 1:
                group[0].error = error
            self._cond.notify_all()
