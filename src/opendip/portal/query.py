"""Reading a portal query string strictly: every problem found at once, each naming its parameter.

A filter that silently dropped a mistyped MPAN or an unknown parameter would
show a reassuring but wrong list, which is the failure users already suffer
from. So `Reader` collects every problem and `finish` raises one MSG1001
listing them all (`query.mpan[2]: an MPAN core is 13 digits; got '123'`).

Times are UTC. A `from` bound includes its instant; a `to` bound includes the
whole second it names (the whole day for a bare date), so `to=09:30:05` keeps
a message received at 09:30:05.7. Internally ranges are half-open
[since, until) in epoch seconds, the unit the tables store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opendip.errors import DipError, Msg

Query = Mapping[str, Sequence[str]]
"""Query parameters, each with every value given (`?mpan=1&mpan=2`)."""

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


class FilterError(DipError):
    """A MSG1001 for a query string, keeping each problem apart so a page can list them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(Msg.SCHEMA_FAILURE, "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Bound:
    """One end of a time range, kept with the text it was given in for links and forms."""

    at: float
    text: str


@dataclass(frozen=True)
class Page:
    """Keyset position: rows after (older than) or before (newer than) a cursor, never an offset."""

    per_page: int = DEFAULT_PER_PAGE
    after: str | None = None
    before: str | None = None


@dataclass
class Reader:
    """Collects every problem in a query string so one answer lists them all."""

    query: Query
    allowed: frozenset[str]
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in sorted(set(self.query) - self.allowed):
            self.problems.append(f"query.{name}: unknown parameter; use one of {', '.join(sorted(self.allowed))}")

    def one(self, name: str) -> str | None:
        values = [v.strip() for v in self.query.get(name, ()) if v.strip()]
        if len(values) > 1:
            self.problems.append(f"query.{name}: give one value, not {len(values)}")
        return values[0] if values else None

    def matching(self, name: str, pattern: re.Pattern[str], rule: str) -> str | None:
        value = self.one(name)
        if value is not None and not pattern.match(value):
            self.problems.append(f"query.{name}: {rule}; got {value[:40]!r}")
            return None
        return value

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.one(name)
        if value is not None and value not in choices:
            self.problems.append(f"query.{name}: must be one of {', '.join(choices)}; got {value[:40]!r}")
            return None
        return value

    def whole(self, name: str, low: int, high: int, default: int) -> int:
        value = self.one(name)
        if value is None:
            return default
        if not (value.isascii() and value.isdigit() and len(value) <= 18) or not low <= int(value) <= high:
            self.problems.append(f"query.{name}: must be a whole number from {low} to {high}; got {value[:40]!r}")
            return default
        return int(value)

    def instant(self, name: str, *, upper: bool) -> Bound | None:
        value = self.one(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
        except ValueError:
            self.problems.append(
                f"query.{name}: must be a UTC date-time such as 2026-11-25T09:30:05 "
                f"(or with an offset, 2026-11-25T09:30:05+00:00); got {value[:40]!r}"
            )
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        date_only = len(value) == 10
        try:  # the calendar's ends: an offset or the bound's last instant can fall outside years 1-9999
            moment = end = moment.astimezone(UTC)
            if upper:
                step = timedelta(days=1) if date_only else timedelta(seconds=1) if moment.microsecond == 0 else None
                end = moment + (step or timedelta(microseconds=1))
        except OverflowError:
            self.problems.append(f"query.{name}: must fall within the years 0001 to 9999 in UTC; got {value[:40]!r}")
            return None
        text = moment.strftime("%Y-%m-%d") if date_only else _second_text(moment)
        return Bound(end.timestamp(), text)

    def range(self) -> tuple[Bound | None, Bound | None]:
        since, until = self.instant("from", upper=False), self.instant("to", upper=True)
        if since and until and until.at <= since.at:
            self.problems.append(f"query.to: must not be before query.from ({until.text} is before {since.text})")
        return since, until

    def page(self, cursor: re.Pattern[str]) -> Page:
        per_page = self.whole("per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE)
        rule = "must be a cursor taken from a Next or Previous link"
        after = self.matching("after", cursor, rule)
        before = self.matching("before", cursor, rule)
        if after and before:
            self.problems.append("query.before: give after or before, not both")
        return Page(per_page, after, before)

    def finish(self) -> None:
        if self.problems:
            raise FilterError(self.problems)


def _second_text(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}" if moment.microsecond else text


def iso_second(epoch: float) -> str:
    """An epoch time as the filters write it: 2026-11-25T09:30:05 (UTC)."""
    return _second_text(datetime.fromtimestamp(epoch, UTC))
