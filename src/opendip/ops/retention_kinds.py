"""What each kind of data retention handles is, as queries: which rows are old enough, which must stay, what
goes into the archive with them, and the bounded delete.

Every query walks an index from a cursor (received time, or id) and reads at
most one batch, so the cost of one batch does not depend on how many rows the
store holds. A message is never purged while any delivery of it is pending, a
status message about it is still to be delivered, or an alert about a missing
response or L4 status is open: those stay (`held`) and are looked at again on
the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, func, or_, select, tuple_, update

from opendip.core import hour_counts
from opendip.core.tables import audit_log, retention_floors
from opendip.db.models import deliveries, journal, message_keys, messages, sender_references
from opendip.delivery.attempts import MESSAGE, STATUS
from opendip.delivery.tables import delivery_attempts
from opendip.status.tables import status_alerts, status_deliveries, status_message_keys, status_messages

Cursor = tuple[float, int]
START: Cursor = (float("-inf"), 0)
Units = dict[int, dict[str, list[Mapping[str, Any]]]]
"""Per candidate id, its archive line: rows by table."""
Found = tuple[list["Candidate"], Cursor | None]
"""Old-enough rows of one batch, and where the next batch starts (None: this was the last)."""
PENDING = "pending"


@dataclass(frozen=True)
class Candidate:
    id: int
    key: str
    at: float


class Kind(Protocol):
    name: str

    def candidates(self, conn: Connection, cutoff: float, after: Cursor, limit: int) -> Found: ...

    def held(self, conn: Connection, found: Sequence[Candidate]) -> set[int]: ...

    def records(self, conn: Connection, found: Sequence[Candidate]) -> Units: ...

    def purge(self, conn: Connection, found: Sequence[Candidate], cutoff: float) -> int: ...


def _by_time(conn: Connection, table: Table, at: Any, cutoff: float, after: Cursor, limit: int, key: Any) -> Found:
    query = (
        select(table.c.id, key, at)
        .where(at < cutoff, tuple_(at, table.c.id) > tuple_(*after))
        .order_by(at, table.c.id)
        .limit(limit)
    )
    found = [Candidate(int(row[0]), str(row[1]), float(row[2])) for row in conn.execute(query)]
    return found, (found[-1].at, found[-1].id) if len(found) == limit else None


def _id_range(table: Table, ids: Sequence[int]) -> tuple[ColumnElement[bool], ...]:
    """The rows of one chunk, by primary key: the chunk's id range (one contiguous stretch of the table,
    since a chunk is consecutive in received time and ids grow with it) and, within it, exactly the ids
    archived, so a row the range spans but no archive holds is never deleted."""
    return (table.c.id >= min(ids), table.c.id <= max(ids), table.c.id.in_(list(ids)))


def _rows(conn: Connection, query: Any) -> list[Mapping[str, Any]]:
    return [dict(row) for row in conn.execute(query).mappings()]


class Messages:
    """A message with its payload, its deliveries (the outbox rows), the L4 statuses about it and their attempts."""

    name = "messages"

    def candidates(self, conn: Connection, cutoff: float, after: Cursor, limit: int) -> Found:
        m = messages.c
        return _by_time(conn, messages, m.received_at, cutoff, after, limit, m.transaction_id)

    def _held_keys(self, conn: Connection, keys: Sequence[str]) -> set[str]:
        """The keys that must stay: a delivery or L4 status still pending, an alert still open.

        Each read is driven by the chunk's own keys (the transaction indexes) and the state is tested
        here: written as SQL, "pending" or "open" let a planner read every pending row of the outbox or
        every open alert for each chunk instead, a cost that grows with the backlog (a 72-hour outage).
        """
        d, s, sd, a = deliveries.c, status_messages.c, status_deliveries.c, status_alerts.c
        outbox = select(d.transaction_id, d.state).where(d.transaction_id.in_(keys))
        l4 = (
            select(s.transaction_id, sd.state)
            .join_from(status_messages, status_deliveries, sd.status_message_id == s.id)
            .where(s.transaction_id.in_(keys))
        )
        alerts = select(a.transaction_id, a.resolved_at.is_(None)).where(a.transaction_id.in_(keys))
        held = {str(tx) for query in (outbox, l4) for tx, state in conn.execute(query) if state == PENDING}
        return held | {str(tx) for tx, is_open in conn.execute(alerts) if is_open}

    def held(self, conn: Connection, found: Sequence[Candidate]) -> set[int]:
        keys = self._held_keys(conn, [c.key for c in found])
        return {c.id for c in found if c.key in keys}

    def records(self, conn: Connection, found: Sequence[Candidate]) -> Units:
        keys = [c.key for c in found]
        tables = ("messages", "deliveries", "status_messages", "status_deliveries", "delivery_attempts")
        units: dict[str, dict[str, list[Mapping[str, Any]]]] = {k: {t: [] for t in tables} for k in keys}
        for row in _rows(conn, select(messages).where(messages.c.transaction_id.in_(keys))):
            units[row["transaction_id"]]["messages"].append(row)
        for row in _rows(
            conn, select(deliveries).where(deliveries.c.transaction_id.in_(keys)).order_by(deliveries.c.id)
        ):
            units[row["transaction_id"]]["deliveries"].append(row)
        statuses = _rows(conn, select(status_messages).where(status_messages.c.transaction_id.in_(keys)))
        owner = {row["id"]: row["transaction_id"] for row in statuses}
        for row in statuses:
            units[row["transaction_id"]]["status_messages"].append(row)
        if owner:
            query = select(status_deliveries).where(status_deliveries.c.status_message_id.in_(list(owner)))
            for row in _rows(conn, query):
                units[owner[row["status_message_id"]]]["status_deliveries"].append(row)
        for row in _rows(conn, select(delivery_attempts).where(_attempts_of(keys)).order_by(delivery_attempts.c.id)):
            units[row["transaction_id"]]["delivery_attempts"].append(row)
        return {c.id: units[c.key] for c in found}

    def purge(self, conn: Connection, found: Sequence[Candidate], cutoff: float) -> int:
        held = self._held_keys(conn, [c.key for c in found])  # checked again in the deleting transaction
        gone = [c for c in found if c.key not in held]
        if not gone:
            return 0
        keys = [c.key for c in gone]
        hour_counts.change(conn, keys, lambda found: found.clear())  # the dashboard's hourly counts let them go
        hour_counts.drop_empty(conn, hour_counts.hour_of(cutoff))
        s = status_messages.c
        about = select(s.id).where(s.transaction_id.in_(keys))
        conn.execute(delete(delivery_attempts).where(_attempts_of(keys)))
        conn.execute(delete(status_deliveries).where(status_deliveries.c.status_message_id.in_(about)))
        conn.execute(delete(status_messages).where(s.transaction_id.in_(keys)))
        conn.execute(delete(status_message_keys).where(status_message_keys.c.transaction_id.in_(keys)))
        conn.execute(delete(deliveries).where(deliveries.c.transaction_id.in_(keys)))
        drop_keys(conn, keys)
        return int(conn.execute(delete(messages).where(*_id_range(messages, [c.id for c in gone]))).rowcount)


def drop_keys(conn: Connection, keys: Sequence[str]) -> None:
    """The messages' keys go with them: their references may be used again, as when the row held them.

    The references are deleted by their primary key, the pairs read from the messages first: a delete
    whose (sender, reference) came from a subquery let PostgreSQL hash the messages' pairs and read every
    reference (the purge then grew with the store: x1.5 at 1M)."""
    m, r = messages.c, sender_references.c
    pairs = [
        tuple(row)
        for row in conn.execute(select(m.sender_dip_id, m.sender_unique_reference).where(m.transaction_id.in_(keys)))
    ]
    if pairs:
        taken = tuple_(r.sender_dip_id, r.sender_unique_reference).in_(pairs)
        conn.execute(delete(sender_references).where(taken, r.transaction_id.in_(keys)))
    conn.execute(delete(message_keys).where(message_keys.c.transaction_id.in_(keys)))


def _attempts_of(keys: Sequence[str]) -> ColumnElement[bool]:
    """The attempts of these messages' deliveries and of the L4 statuses about them, by outbox row."""
    a, s, sd = delivery_attempts.c, status_messages.c, status_deliveries.c
    sent = select(deliveries.c.id).where(deliveries.c.transaction_id.in_(keys))
    about = select(s.id).where(s.transaction_id.in_(keys))
    l4 = select(sd.id).where(sd.status_message_id.in_(about))
    return or_(and_(a.kind == MESSAGE, a.outbox_id.in_(sent)), and_(a.kind == STATUS, a.outbox_id.in_(l4)))


class Journal:
    """Journal entries, once their message is no longer stored (its tracking then lives in the archive)."""

    name = "journal"

    def candidates(self, conn: Connection, cutoff: float, after: Cursor, limit: int) -> Found:
        j = journal.c
        query = select(j.id, j.transaction_id, j.at).where(j.id > after[1]).order_by(j.id).limit(limit)
        rows = [Candidate(int(r[0]), str(r[1]), float(r[2])) for r in conn.execute(query)]
        old = [c for c in rows if c.at < cutoff]
        # entries are written in time order: a batch with none old enough means the rest are younger
        more = len(rows) == limit and bool(old)
        return old, (0.0, rows[-1].id) if more else None

    def held(self, conn: Connection, found: Sequence[Candidate]) -> set[int]:
        keys = list({c.key for c in found})
        stored = {
            str(r[0])
            for r in conn.execute(select(messages.c.transaction_id).where(messages.c.transaction_id.in_(keys)))
        }
        return {c.id for c in found if c.key in stored}

    def records(self, conn: Connection, found: Sequence[Candidate]) -> Units:
        rows = _rows(conn, select(journal).where(journal.c.id.in_([c.id for c in found])))
        return {row["id"]: {"journal": [row]} for row in rows}

    def purge(self, conn: Connection, found: Sequence[Candidate], cutoff: float) -> int:
        held = self.held(conn, found)
        ids = [c.id for c in found if c.at < cutoff and c.id not in held]
        return int(conn.execute(delete(journal).where(*_id_range(journal, ids))).rowcount) if ids else 0


class Audit:
    """Audit entries; the database refuses to delete any younger than the audit floor, raised first."""

    name = "audit"

    def candidates(self, conn: Connection, cutoff: float, after: Cursor, limit: int) -> Found:
        a = audit_log.c
        return _by_time(conn, audit_log, a.at, cutoff, after, limit, a.action)

    def held(self, conn: Connection, found: Sequence[Candidate]) -> set[int]:
        return set()

    def records(self, conn: Connection, found: Sequence[Candidate]) -> Units:
        rows = _rows(conn, select(audit_log).where(audit_log.c.id.in_([c.id for c in found])))
        return {row["id"]: {"audit_log": [row]} for row in rows}

    def purge(self, conn: Connection, found: Sequence[Candidate], cutoff: float) -> int:
        raise_floor(conn, self.name, cutoff)
        ids = [c.id for c in found if c.at < cutoff]
        return int(conn.execute(delete(audit_log).where(*_id_range(audit_log, ids))).rowcount) if ids else 0


KINDS: dict[str, Kind] = {kind.name: kind for kind in (Messages(), Journal(), Audit())}
RESTORE_ORDER = (
    "messages",
    "deliveries",
    "status_messages",
    "status_deliveries",
    "delivery_attempts",
    "journal",
    "audit_log",
)
TABLES: dict[str, Table] = {
    "messages": messages,
    "deliveries": deliveries,
    "status_messages": status_messages,
    "status_deliveries": status_deliveries,
    "delivery_attempts": delivery_attempts,
    "journal": journal,
    "audit_log": audit_log,
}


def raise_floor(conn: Connection, kind: str, before: float) -> None:
    """Move the kind's retention floor forward to `before` (never back)."""
    f = retention_floors.c
    current = conn.execute(select(f.before_at).where(f.kind == kind)).scalar_one_or_none()
    if current is None:
        conn.execute(retention_floors.insert().values(kind=kind, before_at=before))
    elif current < before:
        conn.execute(update(retention_floors).where(f.kind == kind).values(before_at=before))


def oldest(conn: Connection) -> float | None:
    """When the oldest stored message was received."""
    value = conn.execute(select(func.min(messages.c.received_at))).scalar_one_or_none()
    return None if value is None else float(value)
