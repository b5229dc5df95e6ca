"""Identifiers the hub assigns: transaction IDs and correlation IDs."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def transaction_id(interface_id: str, sender_dip_id: str, role: str, at: float) -> str:
    """T-<interface>-<sender>-<role>-<yyyymmdd>-<random>, at most 65 characters."""
    day = datetime.fromtimestamp(at, UTC).strftime("%Y%m%d")
    head = f"T-{interface_id}-{sender_dip_id}-{role}-{day}-"
    return head + secrets.token_hex(16)[: 65 - len(head)].upper()


def correlation_id(at: float) -> str:
    """CI-<yyyymmdd>-<random>, for messages whose sender gave none."""
    day = datetime.fromtimestamp(at, UTC).strftime("%Y%m%d")
    return f"CI-{day}-{secrets.token_hex(12)}"
