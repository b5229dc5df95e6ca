"""Replay and requeue queries: what matches a filter, page by page, and the requeue job rows.

Two sources share one filter: `channel` (messages delivered to a recipient
on a channel, keyed by the original outbox row id) and `status` (L4 status
messages for an original sender, keyed by the status message id). Only
original outbox rows (replay = false) are matched, so a message requeued
twice is still replayed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, false, func, select

from opendip.db.models import deliveries, messages
from opendip.replay.filters import ReplayFilter
from opendip.status.tables import status_deliveries, status_messages

CHANNEL, STATUS = "channel", "status"

_d, _m, _s, _sd = deliveries.c, messages.c, status_messages.c, status_deliveries.c

CHANNEL_COLUMNS = (
    _d.id,
    _d.transaction_id,
    _d.recipient_dip_id,
    _d.interface_id,
    _d.recipient_kind,
    _d.publication_id,
    _d.replay,
    _d.attempts,
    _d.next_attempt_at,
    _m.payload,
    _m.received_at,
    _m.correlation_id,
)
STATUS_COLUMNS = (_s.id, _s.transaction_id, _s.sender_dip_id, _s.item)

# An original delivery row is created by the ingest that stored its message, moments after the message's
# received_at. A time window on the message is therefore also a window on the row's created_at, widened by
# these margins (a clock stepped back; an ingest held up between reading the batch and writing it), and that
# window is what ix_deliveries_recipient_created reads: a replay or requeue of an hour reads about an hour of
# the recipient's rows at any store size. The exact filter stays on the message's own received_at.
CREATED_BEFORE_RECEIVED = 300.0
CREATED_AFTER_RECEIVED = 900.0


def _common(f: ReplayFilter, received_at: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.received_from is not None:
        where.append(received_at >= f.received_from)
    if f.received_before is not None:
        where.append(received_at < f.received_before)
    if f.event_code is not None:
        where.append(_m.event_code == f.event_code)
    if f.version is not None:
        where.append(_m.schema_version == f.version)
    if f.mpans:
        where.append(_m.mpan.in_(f.mpans))
    return where


def channel_query(f: ReplayFilter, recipient: str, interfaces: Sequence[str], *columns: Any) -> Select[Any]:
    """Original deliveries to `recipient` on `interfaces` that match `f` (no paging bounds)."""
    where = [_d.recipient_dip_id == recipient, _d.interface_id.in_(list(interfaces)), _d.replay == false()]
    where += _common(f, _m.received_at)
    if f.received_from is not None:
        where.append(_d.created_at >= f.received_from - CREATED_BEFORE_RECEIVED)
    if f.received_before is not None:
        where.append(_d.created_at < f.received_before + CREATED_AFTER_RECEIVED)
    if f.transaction_ids:
        where.append(_d.transaction_id.in_(f.transaction_ids))
    if f.states:
        where.append(_d.state.in_(f.states))
    if f.http_statuses:
        where.append(_d.last_http_status.in_(f.http_statuses))
    selected = columns or CHANNEL_COLUMNS
    query = select(*selected).select_from(deliveries)
    if _needs_message(f) or any(getattr(c, "table", None) is messages for c in selected):
        query = query.join(messages, _d.transaction_id == _m.transaction_id)
    return query.where(*where)


def _needs_message(f: ReplayFilter) -> bool:
    """Whether the filter reads the message itself (time, event, version, MPAN), not just the outbox row."""
    return any(v is not None for v in (f.received_from, f.received_before, f.event_code, f.version)) or bool(f.mpans)


def status_query(f: ReplayFilter, recipient: str, *columns: Any) -> Select[Any]:
    """L4 status messages addressed to `recipient` (an original sender) that match `f`."""
    where = [_s.sender_dip_id == recipient, *_common(f, _s.received_at)]
    if f.interfaces:
        where.append(_s.interface_id.in_(f.interfaces))
    if f.transaction_ids:
        where.append(_s.transaction_id.in_(f.transaction_ids))
    query = select(*(columns or STATUS_COLUMNS)).select_from(status_messages)
    if f.event_code is not None or f.version is not None or f.mpans:  # the status's own time is on its row
        query = query.join(messages, _s.transaction_id == _m.transaction_id)
    if f.states or f.http_statuses:
        query = query.join(status_deliveries, and_(_sd.status_message_id == _s.id, _sd.replay == false()))
        if f.states:
            where.append(_sd.state.in_(f.states))
        if f.http_statuses:
            where.append(_sd.last_http_status.in_(f.http_statuses))
    return query.where(*where)


def key_column(kind: str) -> Any:
    return _d.id if kind == CHANNEL else _s.id


def newest_id(conn: Connection, kind: str) -> int:
    """The snapshot bound: the newest row a replay or requeue started now can include."""
    column = key_column(kind)
    return int(conn.execute(select(func.coalesce(func.max(column), 0))).scalar_one())


def page(conn: Connection, kind: str, query: Select[Any], after: int, upto: int, limit: int) -> list[Any]:
    key = key_column(kind)
    return list(conn.execute(query.where(key > after, key <= upto).order_by(key).limit(limit)).all())


def count(conn: Connection, kind: str, query: Select[Any], upto: int) -> int:
    key = key_column(kind)
    bounded = query.where(key <= upto).with_only_columns(key).subquery()
    return int(conn.execute(select(func.count()).select_from(bounded)).scalar_one())
