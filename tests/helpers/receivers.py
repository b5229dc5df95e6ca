"""A simulated participant's webhook running on its own event loop thread, for plain sync tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from opendip.pki.trust import TrustStore
from opendip.simulator.receiver import Behaviour, Received, WebhookReceiver

T = TypeVar("T")


class ThreadedReceiver:
    def __init__(self, trust: TrustStore | None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.receiver = WebhookReceiver(trust)
        self._run(self.receiver.start())

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def url(self, path: str = "/webhook") -> str:
        return self.receiver.url(path)

    def set_behaviour(self, behaviour: Behaviour) -> None:
        self.receiver.behaviour = behaviour

    @property
    def received(self) -> list[Received]:
        return list(self.receiver.received)

    def transactions(self) -> list[str]:
        return self.receiver.delivered_transactions()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            seen = self.transactions()
            if len(seen) >= count:
                return seen
            time.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries, got {len(self.transactions())}")

    def close(self) -> None:
        self._run(self.receiver.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
