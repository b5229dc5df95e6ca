"""Report periods from the command line: dates or ISO date-times, read as UTC unless they say otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse_moment(text: str, option: str) -> float:
    """`2026-12-01` (midnight UTC) or `2026-12-01T18:00[:00][+00:00]` -> epoch seconds."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{option} {text!r}: expected a date (2026-12-01) or ISO date-time (2026-12-01T18:00:00)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def period(start: str | None, end: str | None, now: float, *, default_days: int = 1) -> tuple[float, float]:
    """[from, to): `to` defaults to now, `from` to `default_days` before `to`; `from` must come first."""
    stop = parse_moment(end, "--to") if end else now
    begin = parse_moment(start, "--from") if start else stop - timedelta(days=default_days).total_seconds()
    if begin >= stop:
        raise ValueError("--from must be before --to")
    return begin, stop
