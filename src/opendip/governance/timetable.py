"""A change request's dates from its decision: implementation and any consultation window.

The DIP's default is implementation 5 working days after the decision "unless
set otherwise", so the number of days is a parameter with that default, and
every date comes with the days it skipped so a reader can check the sum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from opendip.governance.workdays import CALENDAR_NAME, ClosedDay, WorkingCalendar

DEFAULT_IMPLEMENTATION_DAYS = 5


@dataclass(frozen=True)
class Timetable:
    decision_date: dt.date
    implementation_days: int
    implementation_date: dt.date
    skipped: tuple[ClosedDay, ...]
    consultation_opens: dt.date | None = None
    consultation_days: int | None = None
    consultation_closes: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "calendar": CALENDAR_NAME,
            "decision_date": self.decision_date.isoformat(),
            "implementation_working_days": self.implementation_days,
            "implementation_date": self.implementation_date.isoformat(),
            "skipped": [day.as_dict() for day in self.skipped],
        }
        if self.consultation_opens is not None and self.consultation_closes is not None:
            found["consultation"] = {
                "opens": self.consultation_opens.isoformat(),
                "working_days": self.consultation_days,
                "closes": self.consultation_closes.isoformat(),
            }
        return found


def timetable(
    decision: dt.date,
    *,
    implementation_days: int = DEFAULT_IMPLEMENTATION_DAYS,
    consultation_opens: dt.date | None = None,
    consultation_days: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> Timetable:
    """The implementation date `implementation_days` working days after `decision`, and the consultation's close."""
    working = calendar or WorkingCalendar()
    implementation = working.add(decision, implementation_days)
    closes = None
    if consultation_opens is not None and consultation_days is not None:
        # a window counts its opening day: 15 days opening on a Monday close on the 15th working day
        closes = working.add(consultation_opens - dt.timedelta(days=1), consultation_days)
    return Timetable(
        decision_date=decision,
        implementation_days=implementation_days,
        implementation_date=implementation,
        skipped=tuple(working.closed_between(decision, implementation)),
        consultation_opens=consultation_opens,
        consultation_days=consultation_days if closes is not None else None,
        consultation_closes=closes,
    )
