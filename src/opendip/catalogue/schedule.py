"""Which schemaVersions each environment accepts, and from when: parsing and deciding.

A message definition change is released on a date, environment by environment
(test environments first, production last), and the old version is retired on
another date. The catalogue says so as data (environments.yaml for the defaults,
an `environments:` map on a version for its own dates), so a release is a data
change, never a code change. Dates are read once here and become epoch seconds.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from typing import Any

from opendip.catalogue.issues import issue
from opendip.catalogue.model import Environment, InterfaceVersion, ValidationIssue, Window
from opendip.catalogue.source import Where
from opendip.errors import Msg

ENVIRONMENT_ID = re.compile(r"[A-Z]{2,10}")


def _moment(value: Any, at: Where) -> float:
    """A YAML date (2025-09-22, midnight UTC) or ISO date-time with offset, as epoch seconds."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            at.fail(f"expected a date (2025-09-22) or a date-time with offset, got {value!r}")
        return _moment(parsed, at)
    at.fail(f"expected a date, got {value!r}")


def parse_window(raw: Any, at: Where) -> Window:
    """`{from: 2025-09-22, until: 2027-01-01}`, either end optional; `{}` means always."""
    body = at.mapping(raw, allowed=("from", "until"))
    start = _moment(body["from"], at.at("from")) if body.get("from") is not None else Window().start
    end = _moment(body["until"], at.at("until")) if body.get("until") is not None else Window().end
    if end <= start:
        at.fail("until must be after from")
    return Window(start, end)


def parse_environments(raw: Any, where: Where) -> dict[str, Environment]:
    """environments.yaml: every environment tag, its name, and its default window."""
    body = where.mapping(raw, allowed=("environments",))
    found: dict[str, Environment] = {}
    listed = where.at("environments")
    for tag, spec in listed.mapping(body.get("environments")).items():
        at = listed.at(tag)
        at.string(tag, pattern=ENVIRONMENT_ID)
        entry = at.mapping(spec, allowed=("name", "notes", "accepts"))
        found[tag] = Environment(
            id=tag,
            name=at.at("name").string(entry.get("name")),
            default=parse_window(entry.get("accepts"), at.at("accepts")),
            notes=at.optional_string(entry.get("notes")),
        )
    if not found:
        listed.fail("name at least one environment")
    return found


def parse_schedule(raw: Any, at: Where, environments: Mapping[str, Environment]) -> dict[str, Window] | None:
    """A version's own `environments:` map, or None to use every environment's default."""
    if raw is None:
        return None
    schedule: dict[str, Window] = {}
    for tag, spec in at.mapping(raw).items():
        if tag not in environments:
            at.at(tag).fail(f"unknown environment {tag}; known: {', '.join(environments)}")
        schedule[tag] = parse_window(spec, at.at(tag))
    return schedule


def window_for(version: InterfaceVersion, environment: str, environments: Mapping[str, Environment]) -> Window | None:
    """The window in which `environment` accepts `version`, or None if it never does."""
    if version.schedule is not None:
        return version.schedule.get(environment)
    known = environments.get(environment)
    return known.default if known is not None else Window()


def day(epoch: float) -> str:
    """An epoch as the date or date-time a person wrote in the catalogue."""
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return moment.strftime("%Y-%m-%d") if moment.time() == dt.time() else moment.isoformat()


def window_issues(
    windows: Mapping[str, Window | None], version: str, env: str, interface_id: str, path: str, at: float | None
) -> list[ValidationIssue]:
    """The bound environment's release dates for `version`: not yet, no longer, or never."""
    window = windows.get(version)
    if window is None:
        offered = sorted(v for v, w in windows.items() if w is not None)
        text = f"schemaVersion {version} of {interface_id} is not accepted in {env}; {env} accepts {offered}"
        return [issue(path, "unsupportedVersion", text, Msg.UNSUPPORTED_VERSION)]
    if not window.bounded:
        return []
    now = time.time() if at is None else at
    if now < window.start:
        text = f"schemaVersion {version} of {interface_id} is accepted in {env} from {day(window.start)}"
        return [issue(path, "versionNotYetReleased", text, Msg.UNSUPPORTED_VERSION)]
    if now >= window.end:
        text = f"schemaVersion {version} of {interface_id} was retired in {env} on {day(window.end)}"
        return [issue(path, "retiredVersion", text, Msg.RETIRED_VERSION)]
    return []
