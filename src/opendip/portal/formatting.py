"""How values read on the page: UTC times, milliseconds, expiry, JSON, and links that keep their filters.

Registered on the portal's Jinja environment, so templates format every time
the same way (UTC, to the second or millisecond) and build every link from a
filter's canonical parameters, never by pasting strings together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import orjson

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PORTAL = "/portal"
MESSAGES = "/portal/messages"
JOURNAL = "/portal/journal"
PARTICIPANTS = "/portal/participants"


def utc(epoch: float | None) -> str:
    """2026-11-25 09:30:05, the form filters accept back (with a T)."""
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def utc_ms(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def iso(epoch: float | None) -> str:
    """Machine-readable time for <time datetime=...> and CSV: 2026-11-25T09:30:05.123+00:00."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def millis(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:,.1f} s"
    return f"{value:,.1f} ms"


def span(seconds: float) -> str:
    """A duration in the largest sensible unit: 45 s, 12 min, 5.0 h, 30 days."""
    seconds = abs(seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def pretty_json(raw: bytes | str) -> str:
    try:
        return orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def short_id(value: str, keep: int = 10) -> str:
    """A long ID cut to its distinctive ends for dense tables: T-IF-043-…9F389CAB8 (the full ID stays in the page)."""
    if len(value) <= 2 * keep + 1:
        return value
    head = value[: value.find("-", 2) + 1] if value.startswith(("T-", "S-")) else ""
    head = value[: len(head) + 6] if head else value[:keep]
    return f"{head}…{value[-keep:]}"


def href(path: str, params: Mapping[str, str] | None = None, **extra: str | int | None) -> str:
    """A portal link: the filter's parameters plus extras (None drops a parameter)."""
    merged: dict[str, str] = dict(params or {})
    for key, value in extra.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return f"{path}?{urlencode(merged)}" if merged else path


def environment_choice(request: Any) -> tuple[str, list[str]]:
    """The environment a page shows, and every one the viewer can switch to (none on a page that cannot ask)."""
    hub = getattr(request.app.state, "hub", None)
    if hub is None:
        return "", []
    try:
        return hub.settings.environment_tag, hub.environment_names()
    except Exception:  # an error page must render whatever else is down
        return hub.settings.environment_tag, []


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(utc=utc, utc_ms=utc_ms, iso=iso, millis=millis, span=span, pretty_json=pretty_json)
    env.filters["short_id"] = short_id
    env.globals.update(href=href, PORTAL=PORTAL, MESSAGES=MESSAGES, JOURNAL=JOURNAL, PARTICIPANTS=PARTICIPANTS)
    env.globals["environment_choice"] = environment_choice
    return env
