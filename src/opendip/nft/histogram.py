"""Latency histograms (HdrHistogram) and the per-interval series the charts draw.

HdrHistogram keeps every value to three significant digits in fixed memory,
so percentiles of millions of requests are exact to 0.1 % and cheap to merge;
averaging per-second percentiles instead would be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # an hour: anything slower is recorded as an hour
PERCENTILES = (50.0, 90.0, 99.0)


class Latencies:
    """Seconds in, milliseconds out: a thin, typed face on one HdrHistogram (microsecond units)."""

    def __init__(self, significant_figures: int = 3) -> None:
        self._histogram = HdrHistogram(LOWEST_US, HIGHEST_US, significant_figures)

    def record(self, seconds: float) -> None:
        micros = round(seconds * 1_000_000)
        self._histogram.record_value(min(max(micros, LOWEST_US), HIGHEST_US))

    def add(self, other: Latencies) -> None:
        self._histogram.add(other._histogram)

    @property
    def count(self) -> int:
        return int(self._histogram.get_total_count())

    def percentile_ms(self, percentile: float) -> float | None:
        if not self.count:
            return None
        return round(self._histogram.get_value_at_percentile(percentile) / 1000.0, 3)

    def mean_ms(self) -> float | None:
        return round(self._histogram.get_mean_value() / 1000.0, 3) if self.count else None

    def max_ms(self) -> float | None:
        return round(self._histogram.get_max_value() / 1000.0, 3) if self.count else None

    def summary(self) -> dict[str, float | int | None]:
        """{count, mean, p50, p90, p99, max} in milliseconds (None when nothing was recorded)."""
        return {
            "count": self.count,
            "mean": self.mean_ms(),
            "p50": self.percentile_ms(50.0),
            "p90": self.percentile_ms(90.0),
            "p99": self.percentile_ms(99.0),
            "max": self.max_ms(),
        }


@dataclass
class Interval:
    """One slice of the run: requests due in it, answers that arrived in it, latencies of those due in it."""

    start: float
    due: int = 0
    answered: int = 0
    ok_messages: int = 0
    errors: int = 0
    latencies: Latencies = field(default_factory=lambda: Latencies(2))


class Timeline:
    """Fixed-width intervals over the run, created as needed."""

    def __init__(self, width: float) -> None:
        self.width = width
        self._intervals: dict[int, Interval] = {}

    def at(self, offset: float) -> Interval:
        index = max(0, int(offset // self.width))
        interval = self._intervals.get(index)
        if interval is None:
            interval = self._intervals[index] = Interval(index * self.width)
        return interval

    def series(self) -> list[dict[str, float | int | None]]:
        """Rows for report.json and the charts: rates per second and latency percentiles per interval."""
        rows: list[dict[str, float | int | None]] = []
        for index in range(max(self._intervals, default=-1) + 1):
            interval = self._intervals.get(index) or Interval(index * self.width)
            summary = interval.latencies.summary()
            rows.append(
                {
                    "t": round(interval.start, 3),
                    "offered_per_s": round(interval.due / self.width, 3),
                    "answered_per_s": round(interval.answered / self.width, 3),
                    "ok_messages_per_s": round(interval.ok_messages / self.width, 3),
                    "errors": interval.errors,
                    "p50_ms": summary["p50"],
                    "p90_ms": summary["p90"],
                    "p99_ms": summary["p99"],
                    "max_ms": summary["max"],
                }
            )
        return rows
