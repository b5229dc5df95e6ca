"""A circuit breaker per recipient, so a dead webhook stops costing anyone anything.

Retries alone would keep a dead recipient's whole backlog cycling through
timeouts, each holding a connection and a concurrency slot. After a few
consecutive failed batches the circuit opens: that recipient's rows are simply
not claimed (their attempts are not counted) until a cooldown passes; then one
probe batch is let through (half-open). A success closes the circuit; another
failure re-opens it with the cooldown doubled, up to a cap.

This class is the state machine, in memory. Delivery workers share one view
of every recipient through the store (shared_breaker.py), which loads rows
into it and writes its transitions back, so N worker processes trip, cool
down and probe a recipient as one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from opendip.config import Settings


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSnapshot:
    """What the portal and metrics show for one recipient."""

    state: BreakerState
    consecutive_failures: int
    cooldown_seconds: float
    reopens_in_seconds: float | None


@dataclass
class _Circuit:
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    cooldown: float = 0.0
    opened_at: float = 0.0


class CircuitBreaker:
    """Per-key (recipient DIP ID) breaker; not thread-safe, used from the worker's event loop."""

    def __init__(
        self,
        failure_threshold: int,
        cooldown_seconds: float,
        max_cooldown_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.max_cooldown_seconds = max(max_cooldown_seconds, cooldown_seconds)
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> CircuitBreaker:
        return cls(
            settings.breaker_failure_threshold,
            settings.breaker_cooldown_seconds,
            settings.breaker_max_cooldown_seconds,
        )

    def state(self, key: str) -> BreakerState:
        """The current state; an open circuit whose cooldown has passed becomes half-open."""
        circuit = self._circuits.get(key)
        if circuit is None:
            return BreakerState.CLOSED
        if circuit.state is BreakerState.OPEN and self._clock() - circuit.opened_at >= circuit.cooldown:
            circuit.state = BreakerState.HALF_OPEN
        return circuit.state

    def record_success(self, key: str) -> None:
        """Any coherent answer proves the recipient is alive: close and forget the history."""
        self._circuits.pop(key, None)

    def record_failure(self, key: str) -> None:
        circuit = self._circuits.setdefault(key, _Circuit())
        if self.state(key) is BreakerState.HALF_OPEN:
            self._open(circuit, min(circuit.cooldown * 2, self.max_cooldown_seconds))
            return
        if circuit.state is BreakerState.OPEN:
            return  # a batch sent before the circuit opened; it changes nothing
        circuit.failures += 1
        if circuit.failures >= self.failure_threshold:
            self._open(circuit, self.cooldown_seconds)

    def load(self, key: str, state: BreakerState, failures: int, cooldown: float, opened_at: float) -> None:
        """Take a circuit as stored (opened_at on this breaker's clock)."""
        self._circuits[key] = _Circuit(state, failures, cooldown, opened_at)

    def stored(self, key: str) -> tuple[BreakerState, int, float, float] | None:
        """(state, failures, cooldown, opened_at) to store; None when the circuit is closed and clean."""
        circuit = self._circuits.get(key)
        if circuit is None:
            return None
        return self.state(key), circuit.failures, circuit.cooldown, circuit.opened_at

    def _open(self, circuit: _Circuit, cooldown: float) -> None:
        circuit.state = BreakerState.OPEN
        circuit.cooldown = cooldown
        circuit.opened_at = self._clock()

    def snapshot(self) -> dict[str, BreakerSnapshot]:
        """Every recipient whose circuit is not plainly closed-and-healthy."""
        now = self._clock()
        result: dict[str, BreakerSnapshot] = {}
        for key, circuit in self._circuits.items():
            state = self.state(key)
            reopens = None
            if state is BreakerState.OPEN:
                reopens = max(0.0, circuit.opened_at + circuit.cooldown - now)
            result[key] = BreakerSnapshot(state, circuit.failures, circuit.cooldown, reopens)
        return result
