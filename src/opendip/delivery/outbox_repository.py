"""The outbox queries for any kind of outbox row: due groups, claims under a lease, holds, releases, outcomes.

Workers compete for rows. A claim sets `lease_owner`/`lease_until` in the same
transaction that selects the rows (FOR UPDATE SKIP LOCKED on PostgreSQL, so
workers never wait on each other; BEGIN IMMEDIATE on SQLite, which serialises
writers). A worker that dies after POSTing leaves its lease to expire and the
row is claimed again: delivery is at-least-once, always with the same
transactionID so recipients can de-duplicate.

Message deliveries and L4 status deliveries are two kinds of one outbox: an
`OutboxSource` says what is particular to a kind (its table, the columns naming
a group, what a claim reads and from which join, its breakers' table, its
journal voice), and `OutboxRepository` runs the same queries over it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, Table, and_, bindparam, func, select
from sqlalchemy.engine import Dialect

from opendip.db.engine import Database
from opendip.db.prepared import Prepared
from opendip.delivery.journalling import Wording
from opendip.delivery.outbox import PENDING, OutboxTable, OutcomeWriter, Settled
from opendip.delivery.shared_breaker import tripped_circuits

GroupKey = tuple[str, ...]
"""What is claimed and batched together: (recipient DIP ID, channel) for messages, (recipient,) for L4s."""


@dataclass(frozen=True)
class OutboxSource:
    """What the shared queries need to know of one outbox kind."""

    outbox: OutboxTable
    breakers: Table
    group: tuple[ColumnElement[Any], ...]
    """Columns of the outbox table naming a group; the first is the recipient."""
    joined: FromClause
    """The outbox table joined with what a claim reads (the message, the status)."""
    columns: tuple[ColumnElement[Any], ...]
    """What a claim reads, in the order of `row`'s fields."""
    transaction_id: ColumnElement[Any]
    row: Callable[..., Any]
    """The claimed row, built from the driver's plain values of `columns` (db/prepared.py)."""
    wording: Wording
    """The kind's journal voice: its Paused entry for a held row (and its settle steps' words)."""

    @property
    def table(self) -> Table:
        return self.outbox.table


class OutboxRepository:
    """The queries of one outbox kind; every method is one short transaction, first in line on SQLite."""

    def __init__(self, db: Database, source: OutboxSource, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.source = source
        self.clock = clock
        self._outcomes = OutcomeWriter(db, source.outbox)
        self._claim = Prepared(self._claim_query)

    def _claim_query(self, dialect: Dialect) -> Select[Any]:
        """A group's oldest due rows with what the kind's egress needs (compiled once per dialect).

        On SQLite the schedule is compared as an expression so the planner walks the group's
        pending rows in id order (outbox.py: `in_id_order`), not every due row of the outbox.
        """
        source, table = self.source, self.source.table
        return (
            select(*source.columns)
            .select_from(source.joined)
            .where(
                source.outbox.due(bindparam("now"), in_id_order=dialect.name == "sqlite"),
                *(c == bindparam(f"g{i}") for i, c in enumerate(source.group)),
            )
            .order_by(table.c.id)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True, of=table)
        )

    def due_groups(self, now: float) -> list[GroupKey]:
        """Every group with at least one claimable row."""
        query = select(*self.source.group).where(self.source.outbox.due(now)).distinct()
        with self.db.begin(urgent=True) as conn:
            return [tuple(row) for row in conn.execute(query)]

    def _due_rows(self, columns: Iterable[ColumnElement[Any]], group: GroupKey, now: float, limit: int) -> Select[Any]:
        """A group's due rows, oldest first, locked for this transaction (others skip them)."""
        table = self.source.table
        return (
            select(*columns)
            .select_from(self.source.joined)
            .where(self.source.outbox.due(now), and_(*(c == v for c, v in zip(self.source.group, group, strict=True))))
            .order_by(table.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=table)
        )

    def claim(
        self, limits: Iterable[tuple[GroupKey, int]], owner: str, lease_seconds: float, *, now: float | None = None
    ) -> dict[GroupKey, list[Any]]:
        """Lease up to `limit` due rows per group, oldest first, in one transaction, until `now` + `lease_seconds`.

        `now` (default: the clock once the transaction has begun) lets a worker know exactly when the
        leases end, however long the store kept it waiting. Groups whose recipient's shared circuit
        another worker opened since our mirror last looked are skipped (read in this transaction:
        shared_breaker.tripped_circuits).
        """
        claimed: dict[GroupKey, list[Any]] = {}
        wanted = [(group, limit) for group, limit in limits if limit > 0]
        with self.db.begin(urgent=True) as conn:
            now = self.clock() if now is None else now
            tripped = tripped_circuits(conn, self.source.breakers, {group[0] for group, _ in wanted}, owner, now)
            for group, limit in wanted:
                if group[0] in tripped:
                    continue
                params = {"now": now, "limit": limit, **{f"g{i}": value for i, value in enumerate(group)}}
                rows = [self.source.row(*row) for row in self._claim.run(conn, params)]
                if not rows:
                    continue
                self.source.outbox.lease(conn, [row.id for row in rows], owner, now + lease_seconds)
                claimed[group] = rows
        return claimed

    def release(self, ids: Sequence[int], owner: str) -> None:
        """Give back leased rows we will not attempt now (no attempt is counted)."""
        if ids:
            with self.db.begin(urgent=True) as conn:
                self.source.outbox.release(conn, ids, owner)

    def release_all(self, owner: str) -> int:
        """On shutdown: every row still leased to us goes back at once, not when its lease runs out."""
        with self.db.begin(urgent=True) as conn:
            return self.source.outbox.release_owned(conn, owner)

    def hold(self, group: GroupKey, until: float, reason: str, limit: int) -> int:
        """Push due rows of a group to `until` without counting an attempt (Paused journalled once per reason)."""
        table = self.source.table
        with self.db.begin(urgent=True) as conn:
            now = self.clock()
            columns = (table.c.id, self.source.transaction_id.label("transaction_id"), table.c.last_error)
            rows = conn.execute(self._due_rows(columns, group, now, limit)).all()
            paused = self.source.wording.paused
            self.source.outbox.hold(conn, rows, until, reason, lambda tx: paused(tx, now, group[0], reason))
            return len(rows)

    def record(self, outcomes: Sequence[Settled], owner: str) -> None:
        """Write one batch's outcomes, journal and attempt rows (OutcomeWriter: shared with other batches)."""
        self._outcomes.record(outcomes, owner)

    def pending_count(self) -> int:
        """The outbox depth: rows not yet in a terminal state."""
        table = self.source.table
        query = select(func.count()).select_from(table).where(table.c.state == PENDING)
        with self.db.begin(urgent=True) as conn:
            return int(conn.execute(query).scalar_one())
