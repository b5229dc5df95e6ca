"""Message tracking: one transaction's whole record, stage by stage, for the parties to it.

Looked up by transactionID, senderUniqueReference, correlation ID or MPAN.
A sender (or its connection provider) sees everything about its messages; a
recipient sees the inbound stages and what concerns itself, never another
recipient's deliveries. Rejected messages were never stored, but their
journal rows were: the sender is read from the transactionID, which the hub
built from it.

What a webhook answered is the recipient's business, and possibly not even
the recipient's: a webhook pointed at an internal service would read that
service back through this record. So a party sees of an outbound attempt only
its kind and status (`HTTP 500`, `timeout`, the recipient's DIP answer code);
the body excerpt and connection details stay for operators in the portal.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Select, or_, select

from opendip.core.reads import read_engine
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.models import deliveries, journal, messages
from opendip.db.planner import unindexed
from opendip.messages.tables import content_duplicates
from opendip.status.tables import status_deliveries, status_messages

_m, _d, _j = messages.c, deliveries.c, journal.c
_s, _sd, _c = status_messages.c, status_deliveries.c, content_duplicates.c
LOOKUPS = ("transactionID", "senderUniqueReference", "correlationID", "MPAN")
HELD = ("no webhook configured",)


_HUB_OWN_STAGES = frozenset({"Inbound", "Addressing", "MPANUpdateQueue", "Expectation", "Replay"})
_DIP_ANSWER = re.compile(r"MSG\d{4} - ")


def for_party(stage: str | None, reason: str | None) -> str | None:
    """A journal reason as a party to the message may read it: no excerpt of what a webhook answered."""
    if reason is None or stage in _HUB_OWN_STAGES or _DIP_ANSWER.match(reason):
        return reason
    return reason.split(": ", 1)[0]


def stamp(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def sender_in_id(identifier: str) -> str | None:
    """The DIP ID inside a transactionID or senderUniqueReference (T-IF-043-1009012345-REGS-...)."""
    parts = identifier.split("-")
    return parts[3] if len(parts) > 4 and parts[3].isdigit() and len(parts[3]) == 10 else None


def delivery_status(state: str, attempts: int, last_error: str | None) -> str:
    """The tracker's word for an outbox row's state."""
    if state == "pending":
        if last_error in HELD:
            return "Paused"
        return "Retrying" if attempts else "Pending"
    return {
        "delivered": "Delivered",
        "rejected": "RejectedByRecipient",
        "exhausted": "RetriesExhausted",
        "unknown": "UnknownDeliveryStatus",
    }.get(state, state)


def _where(lookup: str, value: str) -> ColumnElement[bool]:
    if lookup == "transactionID":
        return _m.transaction_id == value
    if lookup == "senderUniqueReference":
        sender = sender_in_id(value)
        clause = _m.sender_unique_reference == value
        return clause & (_m.sender_dip_id == sender) if sender else clause
    if lookup == "correlationID":
        return _m.correlation_id == value
    return _m.mpan == value


def lookup_query(lookup: str, value: str, acting_for: Collection[str], after: int, limit: int) -> Select[Any]:
    """Messages matching the lookup that the caller is a party to, in id order after `after`.

    "A recipient of it" is asked of each message the lookup found, through its own deliveries (a probe of
    the transaction index): as `transaction_id IN (the recipient's deliveries)` PostgreSQL hashed every
    delivery the recipient ever had (inside the OR it cannot become a join), 100,000 rows at 1M stored."""
    mine = list(acting_for)
    probe = unindexed(_d.recipient_dip_id).in_(mine)  # by transaction, never the recipient's index
    recipient = select(_d.id).where(_d.transaction_id == _m.transaction_id, probe).exists()
    party = or_(_m.sender_dip_id.in_(mine), recipient)
    return select(messages).where(_where(lookup, value), party, _m.id > after).order_by(_m.id).limit(limit)


def find_messages(
    conn: Connection, lookup: str, value: str, acting_for: Collection[str], after: int, limit: int
) -> list[Any]:
    return list(conn.execute(lookup_query(lookup, value, acting_for, after, limit)).all())


def journal_rows(
    conn: Connection, transaction_ids: Iterable[str], received_from: float | None = None
) -> dict[str, list[Any]]:
    """The journals of these transactions; `received_from`, when all are stored messages: the earliest
    received_at among them, which bounds the day partitions read (journal_days.BEFORE_RECEIPT)."""
    found: dict[str, list[Any]] = {}
    ids = list(transaction_ids)
    if ids:
        query = select(journal).where(_j.transaction_id.in_(ids))
        if received_from is not None:
            query = query.where(_j.at >= received_from - journal_days.BEFORE_RECEIPT)
        for row in conn.execute(query.order_by(_j.id)):
            found.setdefault(row.transaction_id, []).append(row)
    return found


def deliveries_of(conn: Connection, transaction_ids: Iterable[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    ids = list(transaction_ids)
    if ids:
        for row in conn.execute(select(deliveries).where(_d.transaction_id.in_(ids)).order_by(_d.id)):
            found.setdefault(row.transaction_id, []).append(row)
    return found


def statuses_of(conn: Connection, transaction_ids: Iterable[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    ids = list(transaction_ids)
    if ids:
        query = (
            select(
                _s.id, _s.transaction_id, _s.reporter_dip_id, _s.code, _s.received_at, _s.item, _sd.state, _sd.replay
            )
            .join_from(status_messages, status_deliveries, _sd.status_message_id == _s.id, isouter=True)
            .where(_s.transaction_id.in_(ids))
            .order_by(_s.id, _sd.id)
        )
        for row in conn.execute(query):
            found.setdefault(row.transaction_id, []).append(row)
    return found


def duplicates_of(conn: Connection, transaction_ids: Iterable[str]) -> dict[str, str]:
    ids = list(transaction_ids)
    if not ids:
        return {}
    rows = conn.execute(select(_c.transaction_id, _c.original_transaction_id).where(_c.transaction_id.in_(ids)))
    return {r[0]: r[1] for r in rows}


def entry_json(row: Any) -> dict[str, Any]:
    return {
        "stage": row.stage,
        "status": row.status,
        "timestamp": stamp(row.at),
        "recipientID": row.recipient_dip_id,
        "durationMs": None if row.duration_ms is None else round(row.duration_ms, 1),
        "delayMs": None if row.delay_ms is None else round(row.delay_ms, 1),
        "httpStatus": row.http_status,
        "attempt": row.attempt,
        "reason": for_party(row.stage, row.reason),
    }


def delivery_json(row: Any) -> dict[str, Any]:
    return {
        "recipientID": row.recipient_dip_id,
        "publicationID": row.publication_id,
        "recipientKind": row.recipient_kind,
        "replayIndicator": bool(row.replay),
        "deliveryStatus": delivery_status(row.state, row.attempts, row.last_error),
        "attempts": row.attempts,
        "lastHTTPStatus": row.last_http_status,
        "deliveredTimestamp": stamp(row.delivered_at),
        "lastError": for_party(None, row.last_error),
    }


def status_json(rows: list[Any]) -> list[dict[str, Any]]:
    """L4 statuses about a transaction, each with how its passing-on to the sender went."""
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        status = out.setdefault(
            row.id,
            {
                "reportedBy": row.reporter_dip_id,
                "code": row.code,
                "receivedTimestamp": stamp(row.received_at),
                "status": orjson.loads(row.item),
                "passedOn": [],
            },
        )
        if row.state is not None:
            status["passedOn"].append({"state": row.state, "replayIndicator": bool(row.replay)})
    return list(out.values())


def transaction_record(
    db: Database, lookup: str, value: str, acting_for: Collection[str], after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Whole records of the matching transactions the caller is party to, and the paging cursor."""
    with read_engine(db).connect() as conn:
        found = find_messages(conn, lookup, value, acting_for, after, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        ids = [m.transaction_id for m in found]
        if lookup == "transactionID" and not found and sender_in_id(value) in acting_for:
            ids = [value]  # rejected at the door: journal rows only
        stored = found and len(found) == len(ids)
        entries = journal_rows(conn, ids, min(m.received_at for m in found) if stored else None)
        outbox = deliveries_of(conn, ids)
        statuses, dupes = statuses_of(conn, ids), duplicates_of(conn, ids)
    records = []
    by_id = {m.transaction_id: m for m in found}
    for tx in ids:
        message = by_id.get(tx)
        sees_all = message is None or message.sender_dip_id in acting_for
        mine = set(acting_for)
        records.append(
            {
                "transactionID": tx,
                "interfaceID": message.interface_id if message else None,
                "eventCode": message.event_code if message else None,
                "senderID": message.sender_dip_id if message else sender_in_id(tx),
                "senderUniqueReference": message.sender_unique_reference if message else None,
                "correlationID": message.correlation_id if message else None,
                "MPAN": message.mpan if message else None,
                "receivedTimestamp": stamp(message.received_at) if message else None,
                "accepted": message is not None,
                "duplicateOf": dupes.get(tx),
                "deliveries": [delivery_json(d) for d in outbox.get(tx, []) if sees_all or d.recipient_dip_id in mine],
                "statusMessages": status_json(
                    [s for s in statuses.get(tx, []) if sees_all or s.reporter_dip_id in mine]
                ),
                "journal": [
                    entry_json(e)
                    for e in entries.get(tx, [])
                    if sees_all or e.recipient_dip_id is None or e.recipient_dip_id in mine
                ],
            }
        )
    next_after = found[-1].id if more and found else None
    return records, next_after
