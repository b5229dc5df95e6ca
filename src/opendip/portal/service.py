"""The portal's logic: turn filters into pages, keyset cursors into Next/Previous, rows into CSV.

Cursors leave the hub sealed (core.tokens.seal, with the key of the API's continuation tokens): a
Next link that was edited, or taken from another list, is refused rather than read.

Reads use short connections, one per page or per CSV batch, never one held
for a whole download: on SQLite every transaction takes the write lock, and a
slow browser must not hold up ingest.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from sqlalchemy import Connection

from opendip.accounts.viewer import Viewer
from opendip.core.archives import refuse_purged_range
from opendip.core.journal import Stage
from opendip.core.reads import read_engine
from opendip.core.spreadsheet import safe_cell
from opendip.core.tokens import seal, unseal
from opendip.db.engine import Database
from opendip.delivery import attempts as delivery_attempts
from opendip.errors import DipError, Msg
from opendip.portal import aggregates, repository
from opendip.portal.filters import (
    JournalFilter,
    MessageFilter,
    Outcome,
    message_cursor,
    parse_journal_cursor,
    parse_message_cursor,
)
from opendip.portal.formatting import iso
from opendip.portal.predicates import outcome_of
from opendip.portal.query import FilterError, Page
from opendip.status.tracking import for_party

if TYPE_CHECKING:
    from opendip.delivery import DeliveryWorker

Row = dict[str, Any]
T = TypeVar("T")
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
    """Matches counted, up to repository.COUNT_CAP; `more` says there are more than that."""
    next_cursor: str | None
    previous_cursor: str | None
    names: dict[str, str] = field(default_factory=dict)
    more: bool = False


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
    def __init__(
        self,
        db: Database,
        worker: DeliveryWorker | None = None,
        *,
        clock: Callable[[], float] = time.time,
        cursor_key: bytes | None = None,
    ):
        """`cursor_key` seals the Next/Previous cursors; every API node must share it (default: this instance's)."""
        self._db = db
        self._worker = worker
        self.clock = clock
        self._cursor_key = cursor_key or secrets.token_bytes(32)

    def _seal(self, scope: str, position: str) -> str:
        return seal(self._cursor_key, f"portal:{scope}", position)

    def _opened(self, scope: str, name: str, cursor: str, parse: Callable[[str], T | None]) -> T:
        """The position a page cursor names; a cursor the hub did not issue for this list is refused."""
        position = unseal(self._cursor_key, f"portal:{scope}", cursor)
        parsed = parse(position) if position is not None else None
        if parsed is None:
            raise FilterError(
                [f"query.{name}: must be a cursor taken from a Next or Previous link of this list; it was altered"]
            )
        return parsed

    def read(self) -> AbstractContextManager[Connection]:
        """A read that never takes SQLite's write lock: a slow search must not hold up ingest."""
        return read_engine(self._db).connect()

    def refuse_purged(self, flt: MessageFilter) -> None:
        """A requeue or JSON replay of a search reaching purged days: MSG4080 naming the archive, not a short answer."""
        since, until = flt.since, flt.until
        with self.read() as conn:
            refuse_purged_range(conn, since.at if since else None, until.at if until else None)

    def messages(self, viewer: Viewer, flt: MessageFilter, page: Page) -> Listing:
        limit = page.per_page
        with self.read() as conn:
            if page.before:
                before = self._opened("messages", "before", page.before, parse_message_cursor)
                rows = repository.message_rows(conn, viewer, flt, limit=limit + 1, before=before)
                has_newer, has_older = len(rows) > limit, True
                rows = rows[-limit:]
            else:
                after = self._opened("messages", "after", page.after, parse_message_cursor) if page.after else None
                rows = repository.message_rows(conn, viewer, flt, limit=limit + 1, after=after)
                has_newer, has_older = page.after is not None, len(rows) > limit
                rows = rows[:limit]
            counted = repository.count_messages(conn, viewer, flt)
            summaries = self._summaries(conn, viewer, rows)
            names = self.names(conn)
        return Listing(
            rows=summaries,
            total=min(counted, repository.COUNT_CAP),
            more=counted > repository.COUNT_CAP,
            next_cursor=self._seal("messages", message_cursor(rows[-1]["received_at"], rows[-1]["id"]))
            if has_older and rows
            else None,
            previous_cursor=self._seal("messages", message_cursor(rows[0]["received_at"], rows[0]["id"]))
            if has_newer and rows
            else None,
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

    def replay(self, viewer: Viewer, flt: MessageFilter) -> Iterator[Row]:
        """The whole filtered set as the hub holds it (payload and deliveries), newest first, in batches."""
        after: tuple[float, int] | None = None
        while True:
            with self.read() as conn:
                rows = repository.message_rows(conn, viewer, flt, limit=EXPORT_BATCH, after=after)
                summaries = self._summaries(conn, viewer, rows)
                payloads = repository.payloads_of(conn, [row["transaction_id"] for row in rows])
            for s in summaries:
                yield _replayed(s, payloads.get(s.row["transaction_id"]))
            if len(rows) < EXPORT_BATCH:
                return
            after = (rows[-1]["received_at"], rows[-1]["id"])

    def message(self, viewer: Viewer, transaction_id: str) -> MessageDetail:
        with self.read() as conn:
            stored = repository.message(conn, viewer, transaction_id)
            since = stored["received_at"] if stored else None
            timeline = repository.journal_of(conn, viewer, transaction_id, since)
            deliveries = repository.deliveries_of(conn, viewer, [transaction_id]) if stored else []
            tried = delivery_attempts.of_rows(conn, delivery_attempts.MESSAGE, [row["id"] for row in deliveries])
            names = self.names(conn)
        if stored is None and not timeline:
            raise DipError(Msg.NOT_FOUND, f"there is no message {transaction_id[:65]} that you may see")
        _readable_by(viewer, timeline)
        for delivery in deliveries:
            delivery["last_error"] = _reason_for(viewer, Stage.OUTBOUND, delivery["last_error"])
        attempts = {delivery_id: [_attempt_for(viewer, row) for row in rows] for delivery_id, rows in tried.items()}
        _from_journal(deliveries, timeline, attempts)
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
                before = self._opened("journal", "before", page.before, parse_journal_cursor)
                rows = repository.journal_rows(conn, viewer, flt, limit=limit + 1, before=before)
                has_newer, has_older = len(rows) > limit, True
                rows = rows[-limit:]
            else:
                after = self._opened("journal", "after", page.after, parse_journal_cursor) if page.after else None
                rows = repository.journal_rows(conn, viewer, flt, limit=limit + 1, after=after)
                has_newer, has_older = after is not None, len(rows) > limit
                rows = rows[:limit]
            counted = repository.count_journal(conn, viewer, flt)
            senders = repository.senders_of(conn, sorted({row["transaction_id"] for row in rows}))
            names = self.names(conn)
        for row in rows:
            row["sender_dip_id"] = senders.get(row["transaction_id"])
        _readable_by(viewer, rows)
        return Listing(
            rows=rows,
            total=min(counted, repository.COUNT_CAP),
            more=counted > repository.COUNT_CAP,
            next_cursor=self._seal("journal", str(rows[-1]["id"])) if has_older and rows else None,
            previous_cursor=self._seal("journal", str(rows[0]["id"])) if has_newer and rows else None,
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


def _reason_for(viewer: Viewer, stage: str, reason: str | None) -> str | None:
    """Hub-wide viewers (operators) read what a webhook answered; a participant reads only its status.

    A webhook may be pointed at an internal service, whose answers must not be
    read back through the portal by whoever can see the message (the same rule
    as message tracking's, status/tracking.py).
    """
    return reason if viewer.hub_wide else for_party(stage, reason)


def _attempt_for(viewer: Viewer, row: Row) -> Row:
    """One stored attempt as the page lists it; a party reads its HTTP status, not the answer's excerpt."""
    return {
        "attempt": row["attempt"],
        "at": row["finished_at"],
        "status": row["status"],
        "http_status": row["http_status"],
        "duration_ms": max(0.0, (row["finished_at"] - row["started_at"]) * 1000.0),
        "reason": _reason_for(viewer, Stage.OUTBOUND, row["error"]),
    }


def _from_journal(deliveries: list[Row], timeline: list[Row], attempts: dict[int, list[Row]]) -> None:
    """Deliveries attempted before attempts were stored as rows: their history as the journal tells it."""
    older = {row["recipient_dip_id"]: row["id"] for row in deliveries if row["attempts"] and row["id"] not in attempts}
    for entry in timeline:
        delivery_id = older.get(entry["recipient_dip_id"])
        if entry["attempt"] is not None and delivery_id is not None and entry["stage"] == Stage.OUTBOUND:
            attempts.setdefault(delivery_id, []).append(entry)


def _readable_by(viewer: Viewer, entries: list[Row]) -> None:
    for entry in entries:
        entry["reason"] = _reason_for(viewer, entry["stage"], entry["reason"])


def _replayed(summary: MessageSummary, payload: bytes | None) -> Row:
    row = summary.row
    return {
        "transactionID": row["transaction_id"],
        "receivedAt": iso(row["received_at"]),
        "interfaceID": row["interface_id"],
        "outcome": summary.outcome.value if summary.outcome else None,
        "deliveries": [
            {
                "recipient": d["recipient_dip_id"],
                "state": d["state"],
                "attempts": d["attempts"],
                "lastHttpStatus": d["last_http_status"],
            }
            for d in summary.deliveries
        ],
        "payload": orjson.loads(payload) if payload else None,
    }


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
    return str(safe_cell(value))


def _csv_lines(rows: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()
