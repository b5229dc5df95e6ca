"""Reading alerts: what a participant waits on or owes, for the API and the portal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.status.expectations import stamp
from opendip.status.tables import status_alerts

_a = status_alerts.c


def list_alerts(
    db: Database, participant: str | None, *, state: str = "open", kind: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Alerts a participant waits on or owes (every alert for None, the operator's view)."""
    where: list[ColumnElement[bool]] = []
    if participant is not None:
        where.append((_a.waiting_dip_id == participant) | (_a.party_dip_id == participant))
    if state == "open":
        where.append(_a.resolved_at.is_(None))
    elif state == "resolved":
        where.append(_a.resolved_at.is_not(None))
    if kind:
        where.append(_a.kind == kind)
    with read_engine(db).connect() as conn:
        rows = conn.execute(
            select(status_alerts).where(*where).order_by(_a.raised_at.desc(), _a.id.desc()).limit(limit)
        ).all()
    return [
        {
            "kind": r.kind,
            "transactionID": r.transaction_id,
            "interfaceID": r.interface_id,
            "owedBy": r.party_dip_id,
            "waitingParty": r.waiting_dip_id,
            "expected": r.expected,
            "dueTimestamp": stamp(r.due_at),
            "raisedTimestamp": stamp(r.raised_at),
            "resolvedTimestamp": stamp(r.resolved_at) if r.resolved_at else None,
            "resolvedBy": r.resolved_by,
        }
        for r in rows
    ]
