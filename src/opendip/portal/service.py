"""The portal's logic: turn filters into pages, keyset cursors into Next/Previous, rows into CSV.

Reads use short connections, one per page or per CSV batch, never one held
for a whole download: on SQLite every transaction takes the write lock, and a
slow browser must not hold up ingest.
"""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.portal import aggregates, repository
from opendip.portal.access import Viewer
from opendip.portal.filters import (
    JournalFilter,
    MessageFilter,
    Outcome,
    message_cursor,
    parse_message_cursor,
)
from opendip.portal.formatting import iso
from opendip.portal.predicates import outcome_of
from opendip.portal.query import Page

if TYPE_CHECKING:
    from opendip.delivery import DeliveryWorker

Row = dict[str, Any]
EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "transactionID",
    "receivedAt",
    "interfaceID",
    "eventCode",
    "schemaVersion",
    "senderDIPID",
    "senderRoleID",
    "senderUniqueReference",
    "correlationID",
    "DIPConnectionProviderID",
    "MPANCore",
    "outcome",
    "deliveries",
)


@dataclass
class MessageSummary:
    row: Row
    deliveries: list[Row]
    outcome: Outcome | None


@dataclass
class Listing:
    """One keyset page of a list: rows plus the cursors of its neighbours (None when there is none)."""

    rows: list[Any]
    total: int
    next_cursor: str | None
    previous_cursor: str | None
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class MessageDetail:
    transaction_id: str
    message: Row | None
    payload: bytes | None
    deliveries: list[Row]
    attempts: dict[int, list[Row]]
    timeline: list[Row]
    outcome: Outcome | None
    names: dict[str, str]


class PortalService:
    def __init__(self, db: Database, worker: DeliveryWorker | None = None, *, clock: Callable[[], float] = time.time):
        self._db = db
        self._worker = worker
        self.clock = clock

    def read(self) -> AbstractContextManager[Connection]:
        return self._db.engine.connect()

    def messages(self, viewer: Viewer, flt: MessageFilter, page: Page) -> Listing:
        limit = page.per_page
        with self.read() as conn:
            if page.before:
                rows = repository.message_rows(
                    conn, viewer, flt, limit=limit + 1, before=parse_message_cursor(page.before)
                )
                has_newer, has_older = len(rows) > limit, True
                rows = rows[-limit:]
            else:
                after = parse_message_cursor(page.after) if page.after else None
                rows = repository.message_rows(conn, viewer, flt, limit=limit + 1, after=after)
                has_newer, has_older = page.after is not None, len(rows) > limit
                rows = rows[:limit]
            total = repository.count_messages(conn, viewer, flt)
            summaries = self._summaries(conn, viewer, rows)
            names = self.names(conn)
        return Listing(
            rows=summaries,
            total=total,
            next_cursor=message_cursor(rows[-1]["received_at"], rows[-1]["id"]) if has_older and rows else None,
            previous_cursor=message_cursor(rows[0]["received_at"], rows[0]["id"]) if has_newer and rows else None,
            names=names,
        )

    def export(self, viewer: Viewer, flt: MessageFilter) -> Iterator[str]:
        """The whole filtered set as CSV, newest first, in batches: no row cap, no long-held connection."""
        yield _csv_lines([CSV_COLUMNS])
        after: tuple[float, int] | None = None
        while True:
            with self.read() as conn:
                rows = repository.message_rows(conn, viewer, flt, limit=EXPORT_BATCH, after=after)
                summaries = self._summaries(conn, viewer, rows)
            if not rows:
                return
            yield _csv_lines(_csv_row(s) for s in summaries)
            if len(rows) < EXPORT_BATCH:
                return
            after = (rows[-1]["received_at"], rows[-1]["id"])

    def message(self, viewer: Viewer, transaction_id: str) -> MessageDetail:
        with self.read() as conn:
            stored = repository.message(conn, viewer, transaction_id)
            timeline = repository.journal_of(conn, viewer, transaction_id)
            deliveries = repository.deliveries_of(conn, viewer, [transaction_id]) if stored else []
            names = self.names(conn)
        if stored is None and not timeline:
            raise DipError(Msg.NOT_FOUND, f"there is no message {transaction_id[:65]} that you may see")
        attempts: dict[int, list[Row]] = defaultdict(list)
        by_recipient = {row["recipient_dip_id"]: row["id"] for row in deliveries}
        for entry in timeline:
            delivery_id = by_recipient.get(entry["recipient_dip_id"])
            if entry["attempt"] is not None and delivery_id is not None:
                attempts[delivery_id].append(entry)
        payload = stored.pop("payload") if stored else None
        return MessageDetail(
            transaction_id=transaction_id,
            message=stored,
            payload=payload,
            deliveries=deliveries,
            attempts=dict(attempts),
            timeline=timeline,
            outcome=outcome_of([row["state"] for row in deliveries]),
            names=names,
        )

    def journal(self, viewer: Viewer, flt: JournalFilter, page: Page) -> Listing:
        limit = page.per_page
        with self.read() as conn:
            if page.before:
                rows = repository.journal_rows(conn, viewer, flt, limit=limit + 1, before=int(page.before))
                has_newer, has_older = len(rows) > limit, True
                rows = rows[-limit:]
            else:
                after = int(page.after) if page.after else None
                rows = repository.journal_rows(conn, viewer, flt, limit=limit + 1, after=after)
                has_newer, has_older = after is not None, len(rows) > limit
                rows = rows[:limit]
            total = repository.count_journal(conn, viewer, flt)
            senders = repository.senders_of(conn, sorted({row["transaction_id"] for row in rows}))
            names = self.names(conn)
        for row in rows:
            row["sender_dip_id"] = senders.get(row["transaction_id"])
        return Listing(
            rows=rows,
            total=total,
            next_cursor=str(rows[-1]["id"]) if has_older and rows else None,
            previous_cursor=str(rows[0]["id"]) if has_newer and rows else None,
            names=names,
        )

    @staticmethod
    def names(conn: Connection) -> dict[str, str]:
        return aggregates.participant_names(conn)

    @staticmethod
    def _summaries(conn: Connection, viewer: Viewer, rows: list[Row]) -> list[MessageSummary]:
        by_message: dict[str, list[Row]] = defaultdict(list)
        for delivery in repository.deliveries_of(conn, viewer, [row["transaction_id"] for row in rows]):
            by_message[delivery["transaction_id"]].append(delivery)
        return [
            MessageSummary(
                row,
                by_message[row["transaction_id"]],
                outcome_of([x["state"] for x in by_message[row["transaction_id"]]]),
            )
            for row in rows
        ]


def _csv_row(summary: MessageSummary) -> list[str]:
    row = summary.row
    deliveries = ";".join(
        f"{x['recipient_dip_id']}:{x['state']}:{x['attempts']}:{x['last_http_status'] or ''}"
        for x in summary.deliveries
    )
    values = [
        row["transaction_id"],
        iso(row["received_at"]),
        row["interface_id"],
        row["event_code"],
        row["schema_version"],
        row["sender_dip_id"],
        row["sender_role"],
        row["sender_unique_reference"],
        row["correlation_id"] or "",
        row["connection_provider_id"] or "",
        row["mpan"] or "",
        summary.outcome.value if summary.outcome else "",
        deliveries,
    ]
    return [_cell(v) for v in values]


def _cell(value: str) -> str:
    """Values come from senders: never let a spreadsheet run one as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_lines(rows: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
