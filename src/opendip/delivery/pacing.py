"""How fast each recipient is sent to: a drain rate per recipient, and the pauses a recipient asks for.

A recipient coming back after a long outage has its whole backlog due at
once; without a pace it would get `delivery_concurrency_per_recipient`
batches back to back until it falls over again. The token bucket caps it at
`delivery_rate_per_recipient` messages a second (per worker process; 0 means
no cap) while other recipients' slots are untouched. A 429, or a 503 with
Retry-After, pauses the whole recipient (not only the refused batch) until
the refused rows are due again, so nothing newer overtakes them: the
backlog still arrives oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(0.0, rate)
        self.capacity = max(1.0, self.rate)  # one second's worth: a burst never exceeds the pace for long
        self.clock = clock
        self._tokens: dict[str, tuple[float, float]] = {}
        self._paused_until: dict[str, float] = {}

    def paused(self, recipient: str, wall_now: float) -> bool:
        until = self._paused_until.get(recipient)
        if until is None:
            return False
        if wall_now >= until:
            del self._paused_until[recipient]
            return False
        return True

    def pause(self, recipient: str, until: float) -> None:
        """Send nothing to `recipient` before wall-clock time `until` (the latest pause asked for wins)."""
        self._paused_until[recipient] = max(until, self._paused_until.get(recipient, 0.0))

    def allowance(self, recipient: str) -> int | None:
        """Messages `recipient` may be sent now; None when there is no cap."""
        if self.rate <= 0:
            return None
        now = self.clock()
        tokens, last = self._tokens.get(recipient, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        self._tokens[recipient] = (tokens, now)
        return int(tokens)

    def spend(self, recipient: str, count: int) -> None:
        if self.rate <= 0 or count <= 0:
            return
        tokens, last = self._tokens.get(recipient, (self.capacity, self.clock()))
        self._tokens[recipient] = (tokens - count, last)
