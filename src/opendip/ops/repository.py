"""Queries of the operations domain: maintenance windows, outages, the heartbeat. Each takes a connection."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, insert, select, update

from opendip.ops.tables import heartbeats, maintenance_windows, outages

HUB = "hub"


@dataclass(frozen=True)
class Window:
    id: int
    started_at: float
    until_at: float
    reason: str
    started_by: str
    ended_at: float | None


@dataclass(frozen=True)
class OutageRecord:
    started_at: float
    ended_at: float
    kind: str
    reason: str

    @property
    def seconds(self) -> float:
        return self.ended_at - self.started_at


def open_window(conn: Connection, now: float) -> Window | None:
    """The maintenance window in force now, if any."""
    row = conn.execute(
        select(maintenance_windows)
        .where(maintenance_windows.c.ended_at.is_(None), maintenance_windows.c.until_at > now)
        .order_by(maintenance_windows.c.id.desc())
        .limit(1)
    ).first()
    return Window(**row._mapping) if row else None


def start_window(conn: Connection, now: float, until: float, reason: str, by: str) -> Window:
    """Open a window, or move the end and reason of the one already open."""
    current = open_window(conn, now)
    if current is not None:
        conn.execute(
            update(maintenance_windows)
            .where(maintenance_windows.c.id == current.id)
            .values(until_at=until, reason=reason, started_by=by)
        )
        return Window(current.id, current.started_at, until, reason, by, None)
    new_id = conn.execute(
        insert(maintenance_windows).values(started_at=now, until_at=until, reason=reason, started_by=by)
    ).inserted_primary_key
    assert new_id is not None
    return Window(int(new_id[0]), now, until, reason, by, None)


def close_windows(conn: Connection, now: float, *, early: bool) -> list[Window]:
    """Close windows that ran out (or, `early`, every open one), recording each as planned downtime."""
    condition: ColumnElement[bool] = maintenance_windows.c.ended_at.is_(None)
    if not early:
        condition = and_(condition, maintenance_windows.c.until_at <= now)
    closed = [Window(**row._mapping) for row in conn.execute(select(maintenance_windows).where(condition))]
    for window in closed:
        ended = min(now, window.until_at)
        conn.execute(update(maintenance_windows).where(maintenance_windows.c.id == window.id).values(ended_at=ended))
        conn.execute(
            insert(outages).values(
                started_at=window.started_at, ended_at=ended, kind="planned", reason=f"maintenance: {window.reason}"
            )
        )
    return closed


def beat(conn: Connection, now: float, threshold: float) -> OutageRecord | None:
    """Record that the hub serves now; a silence longer than `threshold` since the last beat was an outage."""
    query = select(heartbeats).where(heartbeats.c.name == HUB)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        conn.execute(insert(heartbeats).values(name=HUB, first_seen=now, last_seen=now))
        return None
    conn.execute(update(heartbeats).where(heartbeats.c.name == HUB).values(last_seen=max(now, row.last_seen)))
    if now - row.last_seen <= threshold:
        return None
    planned = conn.execute(
        select(maintenance_windows.c.id).where(
            maintenance_windows.c.started_at <= row.last_seen,
            maintenance_windows.c.until_at >= now,
        )
    ).first()
    if planned is not None:  # silent inside a maintenance window: already counted as planned
        return None
    record = OutageRecord(row.last_seen, now, "unplanned", f"no health probe answered for {now - row.last_seen:.1f} s")
    conn.execute(insert(outages).values(**record.__dict__))
    return record


def first_seen(conn: Connection) -> float | None:
    return conn.execute(select(heartbeats.c.first_seen).where(heartbeats.c.name == HUB)).scalar()


def outages_between(conn: Connection, start: float, end: float) -> list[OutageRecord]:
    rows = conn.execute(
        select(outages.c.started_at, outages.c.ended_at, outages.c.kind, outages.c.reason)
        .where(outages.c.ended_at > start, outages.c.started_at < end)
        .order_by(outages.c.started_at)
    )
    return [OutageRecord(*row) for row in rows]


def recent_outages(conn: Connection, limit: int) -> list[OutageRecord]:
    rows = conn.execute(
        select(outages.c.started_at, outages.c.ended_at, outages.c.kind, outages.c.reason)
        .order_by(outages.c.started_at.desc())
        .limit(limit)
    )
    return [OutageRecord(*row) for row in rows]
