"""The portal's row queries: message lists, one message with its deliveries and journal, journal lists.

Lists are keyset-paginated on the indexes the hub already keeps
(messages.received_at+id, journal.id): the next page starts strictly after the
last row shown, so paging never skips or repeats rows while traffic arrives
and costs the same on page 1 and page 10,000. There is no row cap on the rows themselves (pages
and exports reach every match); only the count a list shows stops at COUNT_CAP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, and_, func, or_, select

from opendip.accounts.viewer import Viewer
from opendip.db import journal_days
from opendip.db.models import deliveries, journal, messages
from opendip.portal.filters import JournalFilter, MessageFilter
from opendip.portal.predicates import journal_conditions, message_conditions, sees_delivery, sees_journal, sees_message

Row = dict[str, Any]
COUNT_CAP = 1000
"""Lists count their matches up to this many: an exact count of a search over a store of
millions costs a scan of every match, on every page, so beyond it the page says "1000 or more"."""
m, d, j = messages.c, deliveries.c, journal.c

LIST_COLUMNS = (
    m.id,
    m.transaction_id,
    m.interface_id,
    m.event_code,
    m.schema_version,
    m.sender_dip_id,
    m.sender_role,
    m.sender_unique_reference,
    m.correlation_id,
    m.connection_provider_id,
    m.mpan,
    m.received_at,
)


def message_rows(
    conn: Connection,
    viewer: Viewer,
    flt: MessageFilter,
    *,
    limit: int,
    after: tuple[float, int] | None = None,
    before: tuple[float, int] | None = None,
) -> list[Row]:
    """Newest first; with `before`, the `limit` rows just newer than the cursor (still newest first)."""
    query = select(*LIST_COLUMNS).where(*message_conditions(viewer, flt, walk=True))
    if before is not None:
        at, row_id = before
        query = query.where(or_(m.received_at > at, and_(m.received_at == at, m.id > row_id)))
        query = query.order_by(m.received_at.asc(), m.id.asc()).limit(limit)
        return list(reversed(_rows(conn, query)))
    if after is not None:
        at, row_id = after
        query = query.where(or_(m.received_at < at, and_(m.received_at == at, m.id < row_id)))
    return _rows(conn, query.order_by(m.received_at.desc(), m.id.desc()).limit(limit))


def count_messages(conn: Connection, viewer: Viewer, flt: MessageFilter, cap: int = COUNT_CAP) -> int:
    """The matches, counted up to `cap` + 1 (more than `cap` means "cap or more").

    On PostgreSQL a count tests failed deliveries against sets read once from the failed rows'
    partial indexes (predicates._failed); SQLite matches those indexes only to a query term written
    with the states as literals, so there its sets would read a recipient's every delivery, and the
    count walks the marked messages probing each, as a page does.
    """
    walk = conn.dialect.name == "sqlite"
    return _bounded_count(conn, select(m.id).where(*message_conditions(viewer, flt, walk=walk)), cap)


def deliveries_of(conn: Connection, viewer: Viewer, transaction_ids: Sequence[str]) -> list[Row]:
    """The viewer's visible deliveries of these messages, oldest first."""
    if not transaction_ids:
        return []
    query = (
        select(deliveries)
        .join_from(deliveries, messages, d.transaction_id == m.transaction_id)
        .where(d.transaction_id.in_(list(transaction_ids)), sees_delivery(viewer, deliveries))
        .order_by(d.id)
    )
    return _rows(conn, query)


def message(conn: Connection, viewer: Viewer, transaction_id: str) -> Row | None:
    query = select(messages).where(m.transaction_id == transaction_id, sees_message(viewer))
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def payloads_of(conn: Connection, transaction_ids: Sequence[str]) -> dict[str, bytes]:
    """transactionID -> stored payload; callers pass only IDs the viewer may see (from message_rows)."""
    if not transaction_ids:
        return {}
    query = select(m.transaction_id, m.payload).where(m.transaction_id.in_(list(transaction_ids)))
    return {row[0]: bytes(row[1]) for row in conn.execute(query)}


def journal_of(conn: Connection, viewer: Viewer, transaction_id: str, received_at: float | None = None) -> list[Row]:
    """One message's timeline in the order it happened; from its receipt on when it is stored (journal_days)."""
    query = select(journal).where(j.transaction_id == transaction_id, sees_journal(viewer))
    if received_at is not None:
        query = query.where(j.at >= received_at - journal_days.BEFORE_RECEIPT)
    return _rows(conn, query.order_by(j.at, j.id))


def journal_rows(
    conn: Connection,
    viewer: Viewer,
    flt: JournalFilter,
    *,
    limit: int,
    after: int | None = None,
    before: int | None = None,
) -> list[Row]:
    """Newest entry first, keyset on the entry id."""
    query = select(journal).where(*journal_conditions(viewer, flt))
    if before is not None:
        query = query.where(j.id > before).order_by(j.id.asc()).limit(limit)
        return list(reversed(_rows(conn, query)))
    if after is not None:
        query = query.where(j.id < after)
    return _rows(conn, query.order_by(j.id.desc()).limit(limit))


def count_journal(conn: Connection, viewer: Viewer, flt: JournalFilter, cap: int = COUNT_CAP) -> int:
    return _bounded_count(conn, select(j.id).where(*journal_conditions(viewer, flt)), cap)


def _bounded_count(conn: Connection, query: Select[Any], cap: int) -> int:
    bounded = query.limit(cap + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(bounded)).scalar_one())


def senders_of(conn: Connection, transaction_ids: Sequence[str]) -> dict[str, str]:
    """transactionID -> sender DIP ID for stored messages (journal lists show who sent what)."""
    if not transaction_ids:
        return {}
    query = select(m.transaction_id, m.sender_dip_id).where(m.transaction_id.in_(list(transaction_ids)))
    return {row[0]: row[1] for row in conn.execute(query)}


def _rows(conn: Connection, query: Select[Any]) -> list[Row]:
    return [dict(row) for row in conn.execute(query).mappings()]
