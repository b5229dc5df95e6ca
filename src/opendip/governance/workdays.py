"""GB working days for England and Wales: the unit every DIP change-request deadline is counted in.

"Implementation is due 5 working days after the decision": a working day is a
weekday that is not an England and Wales bank holiday. Bank holidays, including
substitute days ("Boxing Day (observed)"), come from the `holidays` package so
the calendar stays right for years nobody typed in by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays

LONDON = ZoneInfo("Europe/London")
CALENDAR_NAME = "England and Wales"


@dataclass(frozen=True)
class ClosedDay:
    """A day that does not count, and why (a weekend or the bank holiday's name)."""

    date: dt.date
    why: str

    def as_dict(self) -> dict[str, str]:
        return {"date": self.date.isoformat(), "why": self.why}


@dataclass
class WorkingCalendar:
    """England and Wales working days; bank holidays loaded a year at a time as they are needed."""

    _table: holidays.HolidayBase | None = field(default=None, repr=False)

    @property
    def _holidays(self) -> holidays.HolidayBase:
        """The bank holidays, made on first use: the package and its table cost a hub start 0.2 s of CPU,
        and most starts never count a working day."""
        if self._table is None:
            import holidays

            self._table = holidays.country_holidays("GB", subdiv="ENG", years=())
        return self._table

    def closed_because(self, day: dt.date) -> str | None:
        """Why `day` is not a working day, or None when it is one."""
        name = self._holidays.get(day)
        if day.weekday() >= 5:
            return f"{day:%A}, {name}" if name else day.strftime("%A")
        return str(name) if name else None

    def is_working_day(self, day: dt.date) -> bool:
        return self.closed_because(day) is None

    def add(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (`start` itself never counts; 0 gives `start`)."""
        if days < 0:
            raise ValueError("working days to add must be zero or more")
        day, counted = start, 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def closed_between(self, start: dt.date, end: dt.date) -> list[ClosedDay]:
        """Days after `start` up to and including `end` that were skipped, with the reason."""
        found: list[ClosedDay] = []
        day = start + dt.timedelta(days=1)
        while day <= end:
            why = self.closed_because(day)
            if why is not None:
                found.append(ClosedDay(day, why))
            day += dt.timedelta(days=1)
        return found


def london_date(epoch: float) -> dt.date:
    """The calendar date in Great Britain at `epoch`: deadlines fall due on GB days, not UTC ones."""
    return dt.datetime.fromtimestamp(epoch, LONDON).date()


def end_of_day(day: dt.date) -> float:
    """The epoch at which `day` ends in Great Britain (midnight London time, summer time included)."""
    following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=LONDON)
    return following.timestamp()


def start_of_day(day: dt.date) -> float:
    """The epoch at which `day` starts in Great Britain: an effective date takes hold then."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).timestamp()
