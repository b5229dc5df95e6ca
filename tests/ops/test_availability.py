"""Availability per month from the outage record: merged overlaps, month edges, planned versus unplanned."""

from __future__ import annotations

from datetime import UTC, datetime

from opendip.ops.availability import months
from opendip.ops.repository import OutageRecord


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_overlaps_merge_and_outages_split_at_month_ends() -> None:
    outages = [
        OutageRecord(at("2026-11-30T23:00:00"), at("2026-12-01T01:00:00"), "unplanned", "down"),
        OutageRecord(at("2026-11-30T23:30:00"), at("2026-11-30T23:45:00"), "unplanned", "overlapping"),
        OutageRecord(at("2026-12-02T00:00:00"), at("2026-12-02T00:30:00"), "planned", "maintenance"),
    ]
    result = months(outages, at("2026-11-16T00:00:00"), at("2026-12-11T00:00:00"))
    november, december = result
    assert november.month == "2026-11" and november.period_seconds == 15 * 86400
    assert november.unplanned_seconds == 3600 and november.planned_seconds == 0
    assert december.month == "2026-12" and december.period_seconds == 10 * 86400
    assert december.unplanned_seconds == 3600 and december.planned_seconds == 1800
    assert december.availability == 1 - 5400 / (10 * 86400)
    assert december.availability_excluding_planned == 1 - 3600 / (10 * 86400)


def test_a_hub_never_down_is_fully_available() -> None:
    (only,) = months([], at("2026-12-01T00:00:00"), at("2026-12-01T12:00:00"))
    assert only.availability == 1.0 and only.period_seconds == 43200
