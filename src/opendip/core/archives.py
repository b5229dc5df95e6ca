"""Where purged data went: the retention floor and the archives holding a time range.

Replay and requeue ask this before reading: a range any part of which reaches
back before the messages' retention floor (by its datetimeFrom, or by a
datetimeTo with no datetimeFrom) would otherwise come back silently incomplete,
so it is answered MSG4080 (an OpenDIP extension code) naming the archive files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from opendip.core.tables import retention_archives, retention_floors
from opendip.errors import DipError, Msg

MESSAGES = "messages"
NAMED = 5  # archives named in one answer; the detail says how many more


@dataclass(frozen=True)
class ArchiveRef:
    file: str
    from_at: float
    to_at: float
    rows: int


def floor(conn: Connection, kind: str) -> float | None:
    """Rows of `kind` older than this may have been purged; None while nothing was."""
    query = select(retention_floors.c.before_at).where(retention_floors.c.kind == kind)
    value = conn.execute(query).scalar_one_or_none()
    return None if value is None else float(value)


def archives_overlapping(conn: Connection, kind: str, start: float | None, end: float) -> list[ArchiveRef]:
    """Purged archives of `kind` holding rows received in [start, end) (start None: from the first), oldest first."""
    a = retention_archives.c
    query = select(a.file, a.from_at, a.to_at, a.rows).where(a.kind == kind, a.status == "purged", a.from_at < end)
    if start is not None:
        query = query.where(a.to_at >= start)
    return [
        ArchiveRef(r.file, float(r.from_at), float(r.to_at), int(r.rows))
        for r in conn.execute(query.order_by(a.from_at, a.id))
    ]


def refuse_purged_range(conn: Connection, start: float | None, end: float | None) -> None:
    """Raise MSG4080 when any part of the range [start, end) holds messages that retention archived and purged.

    A range is named by either bound: with only `end` (datetimeTo) it is everything received before it, so
    it reaches purged days whenever an archive lies before min(end, floor), even if `end` itself is after
    the floor. A request naming neither bound asks for "what is stored" (by transactionIDs, MPANs, ...)
    and is answered from the store.
    """
    if start is None and end is None:
        return
    before = floor(conn, MESSAGES)
    if before is None or (start is not None and start >= before):
        return
    found = archives_overlapping(conn, MESSAGES, start, before if end is None else min(end, before))
    if not found:
        return
    named = ", ".join(a.file for a in found[:NAMED])
    more = f" and {len(found) - NAMED} more" if len(found) > NAMED else ""
    stamp = datetime.fromtimestamp(before, UTC).isoformat(timespec="seconds")
    if start is not None:
        where = "$.datetimeFrom"
    else:
        where = "$.datetimeTo (no $.datetimeFrom: every message received before it)"
    raise DipError(
        Msg.RANGE_PURGED,
        f"{where}: messages received before {stamp} were purged by retention; "
        f"this range is held in archive {named}{more}",
    )
