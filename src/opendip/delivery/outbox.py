"""The outbox engine's table-generic part: due rows, leases, push-backs and settled outcomes.

Message deliveries (`deliveries`) and L4 status deliveries
(`status_deliveries`) are two kinds of one outbox: both tables carry the
`OutboxRow` columns, and both are claimed under a lease, pushed back when no
webhook is configured, and settled only while the lease is still ours. These
statements are written once here, for any such table, so a fix to leasing or
settling reaches both kinds. Every attempt is settled by `write`: the row's
new state, its journal rows and its attempt row (attempts.py) in one
transaction. Every function takes the caller's connection: the kind's
repository owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, bindparam, null, or_, true, update
from sqlalchemy.sql.dml import Update

from opendip.core.journal import record as record_journal
from opendip.db.engine import Database
from opendip.db.group import GroupCommit
from opendip.db.prepared import Prepared
from opendip.delivery import attempts
from opendip.delivery.outbox_arrays import lease_sql, settle_sql

OUTCOMES_PER_TRANSACTION = 1000
_LEASE = ("b_id", "b_owner", "b_until")
_SETTLE = ("b_id", "b_owner", "b_state", "b_attempts", "b_next", "b_delivered", "b_http", "b_error")
"""The lease's and the settle's parameters, in the order their rows are built (no dict per row)."""


class DeliveryState(StrEnum):
    """An outbox row's state, the same words for both kinds."""

    PENDING = "pending"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    EXHAUSTED = "exhausted"
    UNKNOWN = "unknown"


PENDING = DeliveryState.PENDING.value
FAILED_STATES = frozenset({DeliveryState.REJECTED, DeliveryState.EXHAUSTED, DeliveryState.UNKNOWN})


@dataclass(frozen=True)
class Settled:
    """One row's new state after an attempt, as the settle statement writes it, with its journal and attempt rows."""

    id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    delivered_at: float | None = None
    http_status: int | None = None
    error: str | None = None
    journal: Sequence[dict[str, Any]] = field(default_factory=tuple)
    attempt: dict[str, Any] | None = None
    transaction_id: str = ""
    """The row's message ("": not said, read by id where needed)."""
    received_at: float | None = None
    """When the hub took what the row carries (None: not said, read where needed)."""


AfterSettle = Callable[[Collection[int] | None], None]
"""Told the ids the settle statements changed (None: not known, SQLite: the lease read before decides)."""
Settling = Callable[[Connection, Sequence[tuple[Sequence[Settled], str]]], AfterSettle | None]
"""A kind's step before its rows are settled, given every (outcomes, lease owner) of the transaction; what it
returns is called once they are."""


class OutboxTable:
    """The shared statements over one outbox table; `eligible` narrows what may be claimed at all."""

    def __init__(
        self,
        table: Table,
        eligible: Callable[[], ColumnElement[bool]] | None = None,
        on_failed: Callable[[Connection, Sequence[int]], None] | None = None,
        on_settling: Settling | None = None,
    ) -> None:
        self.table = table
        self._eligible = eligible
        self._on_failed = on_failed
        self._on_settling = on_settling
        c = table.c
        self._lease = Prepared(
            lambda _: (
                update(table)
                .where(c.id == bindparam("b_id"))
                .values(lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until"))
            )
        )
        self._lease_arrays = lease_sql(table)
        self._settle_arrays = settle_sql(table)
        self._settle = Prepared(
            lambda _: (
                update(table)
                .where(c.id == bindparam("b_id"), c.lease_owner == bindparam("b_owner"))
                .values(
                    state=bindparam("b_state"),
                    attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_next"),
                    delivered_at=bindparam("b_delivered"),
                    last_http_status=bindparam("b_http"),
                    last_error=bindparam("b_error"),
                    lease_owner=null(),
                    lease_until=null(),
                )
            )
        )

    def due(self, now: float | ColumnElement[float], *, in_id_order: bool = False) -> ColumnElement[bool]:
        """Pending, scheduled by now, not under a live lease (and eligible).

        `in_id_order` (SQLite, a claim of one group's oldest rows): the schedule is compared as an
        expression, so SQLite's planner, which has no statistics, walks the group's pending rows in id
        order (the partial index) instead of every due row of the outbox sorted afterwards: a claim
        then costs what it takes, not the whole backlog (x100 at 20,000 pending).
        """
        c = self.table.c
        scheduled = (c.next_attempt_at + 0) <= now if in_id_order else c.next_attempt_at <= now
        condition = and_(c.state == PENDING, scheduled, or_(c.lease_until.is_(None), c.lease_until < now))
        return and_(condition, self._eligible() if self._eligible is not None else true())

    def lease(self, conn: Connection, ids: Sequence[int], owner: str, until: float) -> None:
        """Mark claimed rows ours until `until` (PostgreSQL: one statement); a dead worker lets the lease run out."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(self._lease_arrays, (owner, until, list(ids)))
        else:
            self._lease.run_rows(conn, _LEASE, [(i, owner, until) for i in ids])

    def release(self, conn: Connection, ids: Sequence[int], owner: str) -> None:
        """Give back leased rows we will not attempt now (no attempt is counted)."""
        if ids:
            c = self.table.c
            conn.execute(
                update(self.table)
                .where(c.id.in_(list(ids)), c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    def release_owned(self, conn: Connection, owner: str) -> int:
        """Give back every row leased to `owner` (a worker shutting down): re-sent at once, not after the lease."""
        return int(conn.execute(self.release_owned_statement(owner)).rowcount or 0)

    def release_owned_statement(self, owner: str) -> Update:
        """Read through the partial index of leased rows (migration 0014): the owner's rows, not the outbox."""
        c = self.table.c
        return update(self.table).where(c.lease_owner == owner).values(lease_owner=None, lease_until=None)

    def push_back(self, conn: Connection, ids: Sequence[int], until: float, reason: str) -> None:
        """Reschedule rows to `until` without counting an attempt (no webhook to send to)."""
        if ids:
            conn.execute(
                update(self.table)
                .where(self.table.c.id.in_(list(ids)))
                .values(next_attempt_at=until, last_error=reason, lease_owner=None, lease_until=None)
            )

    def hold(
        self,
        conn: Connection,
        rows: Sequence[Any],
        until: float,
        reason: str,
        paused: Callable[[str], dict[str, Any]],
    ) -> None:
        """Push locked due rows (id, transaction_id, last_error) back to `until` without counting an attempt.

        The Paused journal entry (`paused(transaction_id)`) is written once per hold reason, not on
        every poll: `last_error` remembers that the row is already held for it.
        """
        self.push_back(conn, [row.id for row in rows], until, reason)
        record_journal(conn, [paused(row.transaction_id) for row in rows if row.last_error != reason])

    def settle(self, conn: Connection, outcomes: Sequence[Settled], owner: str) -> list[int] | None:
        """Write attempts' outcomes, each guarded by our lease: a row another worker re-took keeps its result.

        PostgreSQL: one statement, the rows as arrays (outbox_arrays.py), returning the ids it changed.
        SQLite: one executemany of a statement compiled once (db/prepared.py), the rows handed to the driver
        as tuples; None (the ids are not known).
        """
        if not outcomes:
            return []
        if conn.dialect.name == "postgresql":
            columns = zip(
                *(
                    (o.id, str(o.state), o.attempts, o.next_attempt_at, o.delivered_at, o.http_status, o.error)
                    for o in outcomes
                ),
                strict=True,
            )
            result = conn.exec_driver_sql(self._settle_arrays, (*(list(c) for c in columns), owner))
            return [int(row[0]) for row in result]
        self._settle.run_rows(
            conn,
            _SETTLE,
            [
                (o.id, owner, str(o.state), o.attempts, o.next_attempt_at, o.delivered_at, o.http_status, o.error)
                for o in outcomes
            ],
        )
        return None

    def write(self, conn: Connection, outcomes: Sequence[Settled], owner: str) -> None:
        """Settle one batch's attempts (`write_all`)."""
        self.write_all(conn, [(outcomes, owner)])

    def write_all(self, conn: Connection, batches: Sequence[tuple[Sequence[Settled], str]]) -> None:
        """Settle attempts: the rows' new states (under our lease), their journal rows and their attempt rows.

        Journal and attempt rows are written even where the lease was lost: they say what this worker did.
        `on_settling` sees every batch of the transaction first (the message outbox counts what changes,
        core/hour_counts.py); rows settled in a failed state are handed to `on_failed` in the same
        transaction (the message outbox marks their messages failed for the portal's failed searches).
        """
        after = self._on_settling(conn, batches) if self._on_settling is not None else None
        failed: list[int] = []
        changed: list[int] | None = []
        for outcomes, owner in batches:
            ids = self.settle(conn, outcomes, owner)
            changed = None if ids is None or changed is None else changed + ids
            failed += [o.id for o in outcomes if o.state in FAILED_STATES]
        if after is not None:
            after(changed)
        if failed and self._on_failed is not None:  # rare: nothing more is written for a batch that succeeded
            self._on_failed(conn, failed)
        record_journal(conn, [row for outcomes, _ in batches for o in outcomes for row in o.journal])
        attempts.record(conn, [o.attempt for outcomes, _ in batches for o in outcomes if o.attempt is not None])


class OutcomeWriter:
    """Writes settled attempts of one outbox kind; batches settling at the same moment share a transaction.

    Group commit (db/group.py): the first caller in line writes every batch queued behind it,
    on SQLite first in line for the write lock. A shared transaction that fails is retried by
    each caller on its own, so one batch's fault never loses a neighbour's outcomes.
    """

    def __init__(self, db: Database, outbox: OutboxTable) -> None:
        self._db = db
        self._outbox = outbox
        self._group: GroupCommit[tuple[Sequence[Settled], str]] = GroupCommit(
            db,
            self._write,
            write_group=outbox.write_all,
            size=lambda item: len(item[0]),
            max_size=OUTCOMES_PER_TRANSACTION,
            writers=1 if db.is_sqlite else 4,
            urgent=True,
        )

    def record(self, outcomes: Sequence[Settled], owner: str) -> None:
        """Write one batch's outcomes, journal and attempt rows, committed with other batches' waiting to be.

        Each row update is guarded by our lease: if it expired and another worker took the
        row, that worker's result is the one the row keeps, but our journal and attempt rows
        still say what we did.
        """
        if not outcomes:
            return
        if not self._group.commit((outcomes, owner)):  # a shared transaction failed: on our own
            with self._db.begin(urgent=True) as conn:
                self._write(conn, (outcomes, owner))

    def _write(self, conn: Connection, item: tuple[Sequence[Settled], str]) -> None:
        outcomes, owner = item
        self._outbox.write(conn, outcomes, owner)
