"""The DIP Rules' non-functional lines, as data: volumes, load bands and response-time thresholds.

Every report (the load generator's, a participant's NFR compliance, the
assurance pack) judges against these same numbers, and the portal's latency
charts draw them, so they live in one place on the ground floor.
"""

from __future__ import annotations

from dataclasses import dataclass

AVERAGE_PER_HOUR = 2_750
PEAK_PER_HOUR = 35_000
AVERAGE_PER_DAY = 66_000
PEAK_PER_DAY = 300_000
BURST_PER_SECOND = 100

UP_TO_AVERAGE = "up to average"
AVERAGE_TO_PEAK = "average to peak"
ABOVE_PEAK = "above peak"
BANDS = (UP_TO_AVERAGE, AVERAGE_TO_PEAK, ABOVE_PEAK)


@dataclass(frozen=True)
class Threshold:
    """One line of the rules: a statistic of a response time that must not exceed `seconds`."""

    kind: str  # "L3" (synchronous answer) or "L4" (asynchronous status)
    band: str
    statistic: str  # "mean" or "p90"
    seconds: float

    @property
    def line(self) -> str:
        label = "mean" if self.statistic == "mean" else "90th percentile"
        return f"{self.kind} {label} <= {self.seconds:g} s ({self.band} hourly volume)"


THRESHOLDS = (
    Threshold("L3", UP_TO_AVERAGE, "mean", 2.0),
    Threshold("L3", UP_TO_AVERAGE, "p90", 4.0),
    Threshold("L3", AVERAGE_TO_PEAK, "mean", 5.0),
    Threshold("L3", AVERAGE_TO_PEAK, "p90", 8.0),
    Threshold("L4", UP_TO_AVERAGE, "mean", 6.0),
    Threshold("L4", UP_TO_AVERAGE, "p90", 12.0),
    Threshold("L4", AVERAGE_TO_PEAK, "mean", 10.0),
    Threshold("L4", AVERAGE_TO_PEAK, "p90", 16.0),
)


def band_of(per_hour: float) -> str:
    """The load band an hourly rate falls in (the rules set no lines above peak)."""
    if per_hour <= AVERAGE_PER_HOUR:
        return UP_TO_AVERAGE
    if per_hour <= PEAK_PER_HOUR:
        return AVERAGE_TO_PEAK
    return ABOVE_PEAK


def thresholds(kind: str, band: str) -> list[Threshold]:
    """The lines for one kind in one band; above peak, the average-to-peak lines are the nearest the rules give."""
    judged = AVERAGE_TO_PEAK if band == ABOVE_PEAK else band
    return [t for t in THRESHOLDS if t.kind == kind and t.band == judged]


def judge(kind: str, band: str, mean_ms: float | None, p90_ms: float | None) -> list[dict[str, object]]:
    """`{line, band, threshold, measured, pass}` per line; nothing measured is not a pass."""
    out: list[dict[str, object]] = []
    for threshold in thresholds(kind, band):
        measured_ms = mean_ms if threshold.statistic == "mean" else p90_ms
        measured = None if measured_ms is None else round(measured_ms / 1000.0, 3)
        line = threshold.line if band != ABOVE_PEAK else threshold.line + "; run above peak"
        out.append(
            {
                "line": line,
                "band": band,
                "statistic": threshold.statistic,
                "threshold": threshold.seconds,
                "measured": measured,
                "pass": measured is not None and measured <= threshold.seconds,
            }
        )
    return out
