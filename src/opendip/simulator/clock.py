"""A whole market day compressed into a run: the simulated hour decides how busy the market is.

Real DIP traffic is low overnight, climbs through the morning and peaks in the
evening (18:00-19:00). The profile below gives each hour's share of the daily
volume relative to an average hour; the driver multiplies its base rate by it.
"""

from __future__ import annotations

import time

# Relative traffic per hour of the day, 00:00 .. 23:00 (mean ~1).
HOURLY_PROFILE = (
    0.35, 0.3, 0.3, 0.3, 0.35, 0.45, 0.7, 0.95, 1.1, 1.15, 1.15, 1.1,
    1.05, 1.05, 1.05, 1.1, 1.3, 1.7, 2.3, 2.2, 1.6, 1.1, 0.7, 0.45,
)  # fmt: skip
PEAK_HOURS = (17, 18, 19)


class DayClock:
    """Maps seconds since the start of a run onto the hours of one simulated day."""

    def __init__(self, day_seconds: float, start_hour: float = 0.0) -> None:
        self.day_seconds = max(day_seconds, 1.0)
        self.start_hour = start_hour
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def hour(self) -> float:
        return (self.start_hour + 24.0 * self.elapsed() / self.day_seconds) % 24.0

    def load(self) -> float:
        return HOURLY_PROFILE[int(self.hour())]

    def at_peak(self) -> bool:
        return int(self.hour()) in PEAK_HOURS
