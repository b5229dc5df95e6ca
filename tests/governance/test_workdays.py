"""Working days in England and Wales: weekends, bank holidays and their substitute days."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from opendip.governance.timetable import timetable
from opendip.governance.workdays import WorkingCalendar, end_of_day, london_date, start_of_day

OPENDIP = str(Path(sys.executable).parent / "opendip")
D = dt.date


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("decision", "days", "expected"),
    [
        # Christmas 2026: Fri 25 Christmas, Sat 26 Boxing Day, Mon 28 its substitute, Fri 1 Jan New Year
        (D(2026, 12, 24), 5, D(2027, 1, 5)),
        # a plain week: Monday decision, the next Monday
        (D(2026, 6, 1), 5, D(2026, 6, 8)),
        # a Friday decision skips the weekend
        (D(2026, 6, 5), 1, D(2026, 6, 8)),
        # Easter 2026: Good Friday 3 April and Easter Monday 6 April
        (D(2026, 4, 2), 1, D(2026, 4, 7)),
        # a decision taken on a Saturday counts from the Monday
        (D(2026, 6, 6), 1, D(2026, 6, 8)),
        # Christmas 2027 on a weekend: Mon 27 and Tue 28 are both substitute days
        (D(2027, 12, 24), 1, D(2027, 12, 29)),
        # Late Summer bank holiday, Mon 31 Aug 2026
        (D(2026, 8, 28), 1, D(2026, 9, 1)),
        (D(2026, 6, 1), 0, D(2026, 6, 1)),
    ],
)
def test_working_days_after(calendar: WorkingCalendar, decision: dt.date, days: int, expected: dt.date) -> None:
    assert calendar.add(decision, days) == expected


def test_substitute_days_are_closed_with_their_name(calendar: WorkingCalendar) -> None:
    assert calendar.closed_because(D(2026, 12, 28)) == "Boxing Day (observed)"
    assert calendar.closed_because(D(2027, 12, 27)) == "Christmas Day (observed)"
    assert calendar.closed_because(D(2026, 12, 26)) == "Saturday, Boxing Day"
    assert calendar.closed_because(D(2026, 12, 29)) is None
    assert calendar.is_working_day(D(2026, 12, 24))


def test_scotland_only_holidays_do_not_count(calendar: WorkingCalendar) -> None:
    # 2 January and St Andrew's Day are Scottish bank holidays, not England and Wales ones
    assert calendar.is_working_day(D(2026, 1, 2))
    assert calendar.is_working_day(D(2026, 11, 30))


def test_negative_days_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="zero or more"):
        calendar.add(D(2026, 1, 5), -1)


def test_timetable_lists_what_it_skipped() -> None:
    result = timetable(D(2026, 12, 24)).as_dict()
    assert result["implementation_date"] == "2027-01-05"
    assert [s["date"] for s in result["skipped"]] == [
        "2026-12-25",
        "2026-12-26",
        "2026-12-27",
        "2026-12-28",
        "2027-01-01",
        "2027-01-02",
        "2027-01-03",
    ]


def test_timetable_consultation_window() -> None:
    result = timetable(D(2026, 12, 24), consultation_opens=D(2026, 12, 14), consultation_days=15)
    # 15 working days counting Mon 14 Dec 2026, over Christmas and New Year: Wed 6 Jan 2027
    assert result.consultation_closes == D(2027, 1, 6)


def test_gb_days_follow_london_time_in_summer() -> None:
    # 23:30 UTC on 1 July is already 2 July in London (BST)
    late = dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC).timestamp()
    assert london_date(late) == D(2026, 7, 2)
    assert start_of_day(D(2026, 7, 2)) == dt.datetime(2026, 7, 1, 23, 0, tzinfo=dt.UTC).timestamp()
    assert end_of_day(D(2026, 12, 1)) == dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC).timestamp()


def test_cli_timetable_json() -> None:
    done = subprocess.run(
        [OPENDIP, "cr", "timetable", "--decision-date", "2026-12-24", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["implementation_date"] == "2027-01-05"


def test_cli_timetable_refuses_a_bad_date() -> None:
    done = subprocess.run(
        [OPENDIP, "cr", "timetable", "--decision-date", "24/12/2026"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "YYYY-MM-DD" in done.stderr
