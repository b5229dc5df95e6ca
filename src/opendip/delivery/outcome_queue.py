"""Outcomes of the batches that finish at the same moment, written in one thread hop.

Each finished batch used to hand its outcomes to a thread of its own, where
group commit (db/group.py) joined the batches writing at the same moment into
one transaction. The join now starts on the event loop: a batch's outcomes
are queued, and one writer task takes everything queued into one thread hop
(one transaction, through the kind's repository) while later batches queue
for the next. Each batch is answered only once its outcomes are committed.
When a shared write fails, every batch in it is written again on its own, so
one batch's fault never loses a neighbour's outcomes; a batch that fails
alone gets its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from opendip.delivery.outbox import Settled

_Queued = tuple[Sequence[Settled], "asyncio.Future[None]"]


class OutcomeQueue:
    def __init__(self, write: Callable[[Sequence[Settled], str], None], owner: str) -> None:
        """`write(outcomes, owner)` commits outcomes (a repository's `record`); it runs in a thread."""
        self._write = write
        self._owner = owner
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, outcomes: Sequence[Settled]) -> None:
        """Return once `outcomes` are committed (with whatever else was queued); raise what writing them failed with."""
        if not outcomes:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((outcomes, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(done)  # a cancelled waiter leaves its outcomes to be written all the same

    async def _drain(self) -> None:
        queued: list[_Queued] = []
        try:
            while self._queue:
                queued, self._queue = self._queue, []
                errors = await asyncio.to_thread(self._write_all, [outcomes for outcomes, _ in queued])
                for (_, done), error in zip(queued, errors, strict=True):
                    if done.done():
                        continue
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
        finally:
            self._writer = None
            for _, done in queued + self._queue:  # only when the loop is torn down mid-write: nobody waits forever
                if not done.done():
                    done.set_exception(RuntimeError("the outcome writer was stopped"))
            self._queue = []

    def _write_all(self, batches: list[Sequence[Settled]]) -> list[BaseException | None]:
        """In a thread: every batch in one write; when that fails, each batch again on its own."""
        try:
            self._write([outcome for batch in batches for outcome in batch], self._owner)
            return [None] * len(batches)
        except Exception as exc:
            if len(batches) == 1:
                return [exc]
        errors: list[BaseException | None] = []
        for batch in batches:
            try:
                self._write(batch, self._owner)
                errors.append(None)
            except Exception as exc:
                errors.append(exc)
        return errors
