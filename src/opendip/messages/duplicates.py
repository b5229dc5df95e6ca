"""Content duplicates: the same interface, MPAN and CustomBlock again under a new senderUniqueReference.

The DIP's users see messages delivered twice (IF-021 alone, up to an extra
million a day) because a sender's system re-sent the same content with a
fresh reference. The hub cannot know which copy the sender meant, so the
policy decides per interface: accept and flag (journal entry, counted per
sender per day, a note in the L3 help) or reject with MSG4009.

`screen` runs inside ingest's store transaction, after the reference check
and before any row is written, so a flag or a rejection is committed (or
rolled back) together with the batch it is about.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, select

from opendip.catalogue.policy import DuplicateAction, DuplicatePolicy, policy_for
from opendip.config import Settings
from opendip.core import journal
from opendip.messages.tables import content_duplicates


@dataclass(frozen=True)
class Incoming:
    """What the screen needs to know about one message about to be stored."""

    transaction_id: str
    sender_dip_id: str
    mpan: str | None
    content_hash: str
    received_at: float


@dataclass(frozen=True)
class Finding:
    """`incoming` repeats `original_transaction_id`; `rejected` says what the policy made of it."""

    incoming: Incoming
    original_transaction_id: str
    original_at: float
    rejected: bool

    @property
    def reason(self) -> str:
        when = datetime.fromtimestamp(self.original_at, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return (
            f"same interface, MPAN and CustomBlock as {self.original_transaction_id} accepted at {when}, "
            "under a different senderUniqueReference"
        )


class DuplicateScreen:
    def __init__(self, policy: DuplicatePolicy) -> None:
        self.policy = policy

    @classmethod
    def from_settings(cls, settings: Settings) -> DuplicateScreen:
        return cls(policy_for(settings).duplicates)

    def screen(self, conn: Connection, interface_id: str, batch: Sequence[Incoming]) -> list[Finding | None]:
        """One finding (or None) per incoming message, in order; earlier messages of the batch count."""
        action = self.policy.action(interface_id)
        if action is DuplicateAction.OFF or not batch:
            return [None] * len(batch)
        since = min(i.received_at for i in batch) - self.policy.window_seconds
        rows = _recent(conn, interface_id, list({i.content_hash for i in batch}), since)
        latest: dict[str, tuple[str, float]] = {row[0]: (row[1], row[2]) for row in rows}
        findings: list[Finding | None] = []
        for incoming in batch:
            previous = latest.get(incoming.content_hash)
            if previous is None or incoming.received_at - previous[1] > self.policy.window_seconds:
                findings.append(None)
                latest[incoming.content_hash] = (incoming.transaction_id, incoming.received_at)
                continue
            rejected = action is DuplicateAction.REJECT
            findings.append(Finding(incoming, previous[0], previous[1], rejected))
            if not rejected:
                latest[incoming.content_hash] = (incoming.transaction_id, incoming.received_at)
        return findings

    @staticmethod
    def record(conn: Connection, interface_id: str, findings: Sequence[Finding | None]) -> None:
        """Count every finding; journal the flagged ones (rejected ones are journalled as rule failures)."""
        found = [f for f in findings if f is not None]
        if not found:
            return
        now = time.time()
        conn.execute(content_duplicates.insert(), [_row(interface_id, f, now) for f in found])
        journal.record(
            conn,
            [
                journal.entry(
                    f.incoming.transaction_id,
                    journal.Stage.INBOUND,
                    journal.InboundFlag.DUPLICATE_CONTENT,
                    at=now,
                    reason=f.reason,
                )
                for f in found
                if not f.rejected
            ],
        )


_RECENT = (
    "SELECT content_hash, transaction_id, received_at FROM messages "
    "WHERE interface_id = {mark} AND content_hash {among} AND received_at >= {mark} ORDER BY received_at"
)


def _recent(conn: Connection, interface_id: str, hashes: list[str], since: float) -> Sequence[Any]:
    """Stored messages of the interface with one of these content hashes since `since`, oldest first.

    Run through the driver (on every send, the Core select's building and cache key cost more than the
    query): PostgreSQL takes the hashes as one array, SQLite as one mark each (a statement per count).
    """
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql(_recent_sql("%s", "= ANY(%s)"), (interface_id, hashes, since)).all()
    sql = _recent_sql("?", f"IN ({', '.join('?' * len(hashes))})")
    return conn.exec_driver_sql(sql, (interface_id, *hashes, since)).all()


@lru_cache(maxsize=64)
def _recent_sql(mark: str, among: str) -> str:
    return _RECENT.format(mark=mark, among=among)  # marks only: the values travel as driver parameters


def _row(interface_id: str, finding: Finding, now: float) -> dict[str, Any]:
    incoming = finding.incoming
    return {
        "transaction_id": incoming.transaction_id,
        "original_transaction_id": finding.original_transaction_id,
        "sender_dip_id": incoming.sender_dip_id,
        "interface_id": interface_id,
        "mpan": incoming.mpan,
        "content_hash": incoming.content_hash,
        "action": "rejected" if finding.rejected else "flagged",
        "day": datetime.fromtimestamp(incoming.received_at, UTC).strftime("%Y-%m-%d"),
        "at": now,
    }


def counts_per_day(conn: Connection, sender_dip_id: str, day_from: str, day_to: str) -> list[dict[str, Any]]:
    """Duplicates per day, interface and action for one sender: the report senders act on."""
    d = content_duplicates.c
    rows = conn.execute(
        select(d.day, d.interface_id, d.action, func.count())
        .where(d.sender_dip_id == sender_dip_id, d.day >= day_from, d.day <= day_to)
        .group_by(d.day, d.interface_id, d.action)
        .order_by(d.day, d.interface_id, d.action)
    ).all()
    report: dict[tuple[str, str], dict[str, Any]] = {}
    for day, interface_id, action, count in rows:
        line = report.setdefault(
            (day, interface_id), {"day": day, "interfaceID": interface_id, "flagged": 0, "rejected": 0}
        )
        line[action] = int(count)
    return list(report.values())
