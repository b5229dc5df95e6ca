"""Compliance per load band: each hour judged in the band of its own volume, from journal rows."""

from __future__ import annotations

import pytest

from opendip.core.journal import Outbound, Stage, StatusMessage, entry, record
from opendip.db.engine import Database
from opendip.nft.compliance import ComplianceService

SUP = "2300000900"
BUSY, QUIET = 1_800_000_000.0, 1_800_003_600.0  # two consecutive UTC hours


def delivered(tx: str, at: float, ms: float, attempt: int = 1, status: str = Outbound.DELIVERED) -> dict[str, object]:
    return entry(tx, Stage.OUTBOUND, status, at=at, recipient=SUP, duration_ms=ms, attempt=attempt, http_status=201)


def test_each_hour_is_judged_in_its_own_band(db: Database) -> None:
    rows = []
    # the busy hour: 3,000 messages (above the average 2,750/h), answered in 3 s each: within 5 s, P90 within 8 s
    rows += [delivered(f"T-busy-{n}", BUSY + n, 3000.0) for n in range(3000)]
    # the quiet hour: 10 messages answered in 3 s: over the 2 s mean allowed up to the average volume
    rows += [delivered(f"T-quiet-{n}", QUIET + n, 3000.0) for n in range(10)]
    # one of them failed first (503, retried: two journal rows for that attempt, counted once), then went through
    rows += [
        delivered("T-quiet-retry", QUIET + 20, 100.0, 1, Outbound.DELIVERY_FAILURE),
        delivered("T-quiet-retry", QUIET + 20, 100.0, 1, Outbound.RETRYING),
        delivered("T-quiet-retry", QUIET + 25, 100.0, 2),
    ]
    # L4s: 7 s after delivery for the quiet hour (over 6 s), none for one of them
    rows += [
        entry(f"T-quiet-{n}", Stage.STATUS_MESSAGE, StatusMessage.RECEIVED, at=QUIET + n + 7, recipient=SUP)
        for n in range(9)
    ]
    with db.begin() as conn:
        record(conn, rows)
    compliance = ComplianceService(db).measure(SUP, BUSY, QUIET + 3600, now=QUIET + 3600)
    lines = {(line["kind"], line["band"], line["statistic"]): line for line in compliance.lines()}
    assert lines[("L3", "average to peak", "mean")]["pass"] is True
    assert lines[("L3", "average to peak", "mean")]["count"] == 3000
    assert lines[("L3", "up to average", "mean")]["pass"] is False
    assert lines[("L3", "up to average", "mean")]["count"] == 12  # 10 + the retried message's two attempts
    assert lines[("L4", "up to average", "mean")]["measured"] == pytest.approx(7.0, rel=1e-3)
    assert lines[("L4", "up to average", "mean")]["pass"] is False
    assert lines[("L4", "average to peak", "mean")]["measured"] is None  # no L4s in the busy hour
    assert not compliance.passed
    hours = compliance.hourly()
    assert [(h["volume"], h["band"]) for h in hours] == [(3000, "average to peak"), (11, "up to average")]
    assert hours[1]["l4_missing"] == 2 and hours[1]["failed_answers"] == 1
    assert compliance.slowest_l3[0][0] == 3000.0 and len(compliance.slowest_l3) == 10


def test_a_period_with_no_traffic_has_no_data_not_a_pass(db: Database) -> None:
    compliance = ComplianceService(db).measure(SUP, BUSY, QUIET, now=QUIET)
    assert compliance.hourly() == []
    assert all(line["measured"] is None and line["pass"] is False for line in compliance.lines())
    assert compliance.passed  # nothing measured failed
