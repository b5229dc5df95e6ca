"""Availability per calendar month (UTC), computed from the outage record.

The period of a month counts from when the hub was first seen (a hub installed
mid-month is not charged for the days before it existed) to the month's end,
or to now for the month in progress. Overlapping outages are merged so no
second is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from opendip.ops.repository import OutageRecord


@dataclass(frozen=True)
class MonthAvailability:
    month: str  # YYYY-MM
    period_seconds: float
    unplanned_seconds: float
    planned_seconds: float

    @property
    def availability(self) -> float:
        """Share of the period the hub served, every outage counted."""
        if self.period_seconds <= 0:
            return 1.0
        return max(0.0, 1 - (self.unplanned_seconds + self.planned_seconds) / self.period_seconds)

    @property
    def availability_excluding_planned(self) -> float:
        """The figure service levels usually quote: planned maintenance announced ahead does not count."""
        if self.period_seconds <= 0:
            return 1.0
        return max(0.0, 1 - self.unplanned_seconds / self.period_seconds)

    def as_dict(self) -> dict[str, object]:
        return {
            "month": self.month,
            "period_seconds": round(self.period_seconds, 3),
            "unplanned_seconds": round(self.unplanned_seconds, 3),
            "planned_seconds": round(self.planned_seconds, 3),
            "availability": round(self.availability, 6),
            "availability_excluding_planned": round(self.availability_excluding_planned, 6),
        }


def month_bounds(moment: float) -> tuple[float, float]:
    start = datetime.fromtimestamp(moment, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.timestamp(), end.timestamp()


def merged_seconds(spans: list[tuple[float, float]], start: float, end: float) -> float:
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if b > start and a < end)
    total, reach = 0.0, start
    for a, b in clipped:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def months(outages: list[OutageRecord], first_seen: float, now: float) -> list[MonthAvailability]:
    """Every month from the one the hub was first seen in to the current one, oldest first."""
    result: list[MonthAvailability] = []
    cursor = first_seen
    while cursor < now:
        start, end = month_bounds(cursor)
        period_start, period_end = max(start, first_seen), min(end, now)
        unplanned = merged_seconds(
            [(o.started_at, o.ended_at) for o in outages if o.kind != "planned"], period_start, period_end
        )
        planned_spans = [(o.started_at, o.ended_at) for o in outages if o.kind == "planned"]
        everything = merged_seconds([(o.started_at, o.ended_at) for o in outages], period_start, period_end)
        result.append(
            MonthAvailability(
                month=datetime.fromtimestamp(start, UTC).strftime("%Y-%m"),
                period_seconds=period_end - period_start,
                unplanned_seconds=unplanned,
                planned_seconds=min(everything - unplanned, merged_seconds(planned_spans, period_start, period_end)),
            )
        )
        cursor = end
    return result
