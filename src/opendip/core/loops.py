"""One way to run background work: a loop that steps, sleeps, wakes early, backs off and drains.

The hub's background work (deliveries, L4 deliveries, requeues, the
expectation sweep, registry refresh, certificate and quota upkeep) is a step
repeated forever. Each used to hand-roll its own task, sleep, wake-up event
and exception guard; they now share this one, so stopping, waking from
another thread and surviving a failed step behave the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

Step = Callable[[], Awaitable[object]]


class Loop:
    """Runs `step` every `interval` seconds, or at once after `wake()`, until `stop()`.

    A step that returns True has more to do and is run again straight away.

    A step that raises is logged and retried after a back-off that doubles up to
    `max_backoff` seconds, so a database outage neither kills the loop nor fills
    the log. `stop()` lets the step in progress finish (a graceful drain), then
    runs `on_stop` for whatever the owner must still let go of.
    """

    def __init__(
        self,
        name: str,
        step: Step,
        interval: float,
        *,
        max_backoff: float = 5.0,
    ) -> None:
        self.name = name
        self._step = step
        self.interval = interval
        self._max_backoff = max(interval, max_backoff)
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Start stepping in the running event loop; a second call does nothing."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Finish the step in progress, then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def cancel(self) -> None:
        """End the loop now, abandoning the step in progress (its work must be safe to redo)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def wake(self) -> None:
        """Step now rather than at the next interval; safe to call from any thread."""
        loop, event = self._loop, self._wakeup
        if loop is None or event is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    async def _run(self) -> None:
        assert self._wakeup is not None
        delay = self.interval
        while not self._stopping:
            self._wakeup.clear()
            try:
                more = await self._step()
                delay = self.interval
                if more is True:  # the step left work undone: go again without waiting
                    continue
            except Exception:
                _report_failure(self.name)
                delay = min(self._max_backoff, max(delay * 2, 0.5))
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)


def _report_failure(name: str) -> None:
    """Log a failed step; a log that cannot be written must not end the loop as well."""
    with contextlib.suppress(Exception):  # nowhere left to report to; the loop's retry is what matters
        log.exception("background step failed", loop=name)
