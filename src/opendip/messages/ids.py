"""Identifiers the hub assigns: transaction IDs and correlation IDs."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=4)
def _day_of(epoch_day: int) -> str:
    return datetime.fromtimestamp(epoch_day * 86400, UTC).strftime("%Y%m%d")


def utc_day(at: float) -> str:
    """yyyymmdd of an epoch time; every message of a day shares one formatted string."""
    return _day_of(int(at // 86400))


def transaction_id(interface_id: str, sender_dip_id: str, role: str, at: float) -> str:
    """T-<interface>-<sender>-<role>-<yyyymmdd>-<time><random>, at most 65 characters.

    The suffix starts with the microsecond clock so that the indexes keyed on
    transaction IDs grow at their right-hand edge instead of splitting random
    pages (measured: a third less time to store a batch on SQLite); the random
    tail keeps IDs unique across API nodes.
    """
    day = utc_day(at)
    head = f"T-{interface_id}-{sender_dip_id}-{role}-{day}-"
    suffix = f"{int(at * 1_000_000):014X}" + secrets.token_hex(12).upper()
    return head + suffix[: 65 - len(head)]


def correlation_id(at: float) -> str:
    """CI-<yyyymmdd>-<random>, for messages whose sender gave none."""
    day = utc_day(at)
    return f"CI-{day}-{secrets.token_hex(12)}"
