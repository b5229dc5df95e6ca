"""What an environment serves when, worked out from the append-only release ledger.

Each ledger row says "from this moment, serve this version". A later row
overrides everything from its own moment on, so a rollback made now cancels a
promotion scheduled for next week as well as undoing one already in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BASE = "base"
"""The catalogue a hub starts with (packaged or configured): what an environment serves before any release."""


def timeline(rows: Iterable[dict[str, Any]]) -> list[tuple[float, str]]:
    """(from, version) segments in time order, the rows taken in the order they were written."""
    segments: list[tuple[float, str]] = []
    for row in rows:
        segments = [s for s in segments if s[0] < row["effective_from"]]
        segments.append((row["effective_from"], row["version"]))
    return segments


def serving(rows: Iterable[dict[str, Any]], at: float) -> str:
    """The version in effect at `at`."""
    current = BASE
    for start, version in timeline(rows):
        if start <= at:
            current = version
    return current


def scheduled(rows: Iterable[dict[str, Any]], version: str) -> bool:
    """True when `version` is in force or due to be (not rolled back)."""
    return any(v == version for _, v in timeline(rows))


def last_promotion(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest promotion no rollback has reverted yet: what a rollback undoes."""
    reverted = {row["reverts"] for row in rows if row["action"] == "rollback"}
    for row in reversed(rows):
        if row["action"] == "promote" and row["id"] not in reverted:
            return row
    return None
