"""How long to wait before the next delivery attempt, and when to give up.

A schedule (rather than a formula) is what operators reason about and what the
DIP's own tracker shows: "attempt 3 in 5 minutes". Jitter spreads the retries
of many messages that failed together, so a recipient coming back up is not
hit by the whole backlog in the same second.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from opendip.config import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """`schedule[n]` is the delay before attempt n+1 once n attempts were made.

    The first entry is normally 0 (deliver at once); the schedule's length is
    the total number of attempts a delivery gets.
    """

    schedule: Sequence[float]
    jitter: float = 0.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter is a fraction of the delay: 0 <= jitter < 1")
        if any(delay < 0 for delay in self.schedule):
            raise ValueError("retry delays must not be negative")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(tuple(settings.retry_schedule), settings.retry_jitter)

    @property
    def max_attempts(self) -> int:
        return len(self.schedule)

    def delay(self, attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None when retries are exhausted."""
        if attempts < 0:
            raise ValueError("attempts must not be negative")
        if attempts >= len(self.schedule):
            return None
        base = float(self.schedule[attempts])
        if self.jitter == 0.0 or base == 0.0:
            return base
        return base * (1.0 + self.rng.uniform(-self.jitter, self.jitter))
