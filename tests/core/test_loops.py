"""The background-loop helper: steps, wakes early from any thread, survives a failing step, drains on stop."""

from __future__ import annotations

import asyncio
import threading

from opendip.core.loops import Loop


def test_a_wake_steps_at_once_instead_of_at_the_next_interval() -> None:
    async def scenario() -> int:
        steps = 0
        stepped = asyncio.Event()

        async def step() -> None:
            nonlocal steps
            steps += 1
            stepped.set()

        loop = Loop("test", step, interval=3600)
        loop.start()
        await asyncio.wait_for(stepped.wait(), 30)
        stepped.clear()
        threading.Thread(target=loop.wake).start()  # from another thread, as a store callback does
        await asyncio.wait_for(stepped.wait(), 30)
        await loop.stop()
        return steps

    assert asyncio.run(scenario()) == 2


async def _fails_twice_then_recovers() -> list[str]:
    """A loop whose step fails twice (the store is away), then succeeds; what it saw, in order."""
    seen: list[str] = []
    recovered = asyncio.Event()

    async def step() -> None:
        if len(seen) < 2:
            seen.append("failed")
            raise RuntimeError("the store is away")
        seen.append("ok")
        recovered.set()

    loop = Loop("test", step, interval=0.01, max_backoff=0.05)
    loop.start()
    await asyncio.wait_for(recovered.wait(), 30)
    await loop.stop()
    return seen


def test_a_failing_step_is_retried_and_the_loop_lives_on() -> None:
    assert asyncio.run(_fails_twice_then_recovers())[:3] == ["failed", "failed", "ok"]


def test_stop_lets_the_step_in_progress_finish() -> None:
    async def scenario() -> list[str]:
        events: list[str] = []
        inside = asyncio.Event()
        release = asyncio.Event()

        async def step() -> None:
            events.append("begun")
            inside.set()
            await release.wait()
            events.append("finished")

        loop = Loop("test", step, interval=3600)
        loop.start()
        await asyncio.wait_for(inside.wait(), 30)
        stopping = asyncio.create_task(loop.stop())
        await asyncio.sleep(0)
        assert not stopping.done()
        release.set()
        await asyncio.wait_for(stopping, 30)
        assert not loop.running
        return events

    assert asyncio.run(scenario()) == ["begun", "finished"]


def test_a_loop_outlives_a_log_stream_that_was_closed_under_it() -> None:
    """Seen in CI: a CLI run in-process configured logging onto its own stderr, then closed it; the
    next failing step's log line raised and silently ended the loop."""
    import io
    import sys

    from opendip.ops.logging import configure_logging

    real = sys.stderr
    borrowed = io.StringIO()
    sys.stderr = borrowed
    try:
        configure_logging("INFO")
    finally:
        sys.stderr = real
        borrowed.close()
    try:
        assert asyncio.run(_fails_twice_then_recovers())[:3] == ["failed", "failed", "ok"]
    finally:
        configure_logging("INFO")
