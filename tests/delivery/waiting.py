"""Waiting on outcomes by condition, never by fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from opendip.db.engine import Database
from opendip.delivery import DeliveryWorker
from tests.delivery.seed import delivery_rows


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


async def drain(worker: DeliveryWorker, db: Database, timeout: float = 10.0) -> None:
    """Run claim rounds until no delivery is pending (retries included)."""
    deadline = time.monotonic() + timeout
    while any(row.state == "pending" for row in delivery_rows(db)):
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries still pending after {timeout} s")
        if await worker.run_once() == 0:
            await asyncio.sleep(0.01)
