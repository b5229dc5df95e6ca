"""The circuit breakers of every delivery worker process, kept in the store so they hold as one.

With one breaker per process, N workers would each send a dead recipient
`threshold` failing batches before their own circuit opened, each probe it
on its own after the cooldown, and one of them would keep sending while the
others held off. Here the circuit is a row (none while a recipient is
healthy) in the outbox kind's table: `delivery_breakers` for message webhooks,
`status_breakers` for L4 status webhooks (another URL, so another circuit):

- a failed batch is counted in the row, in one short transaction (row lock on
  PostgreSQL, SQLite's single writer), so the threshold counts every worker's
  failures and the circuit opens once for all;
- each worker reads the rows at most every `refresh_seconds` (a read of a
  table that is empty while everyone is healthy) and skips open recipients;
- once the cooldown passes, one worker wins the probe (a conditional UPDATE
  naming it, for a lease); the others keep holding until the probe's answer
  closes the circuit (the row is deleted) or re-opens it with the cooldown doubled;
- a success costs no write unless the row exists.

Times are wall-clock epoch seconds, shared between processes and machines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from opendip.config import Settings
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.prepared import Prepared
from opendip.delivery.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from opendip.delivery.tables import delivery_breakers


class SharedBreaker:
    """The worker's view of the shared circuits: reads come from a mirror, refreshed by `refresh()` in a thread."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        owner: str,
        *,
        refresh_seconds: float = 0.5,
        clock: Callable[[], float] = time.time,
        table: Table = delivery_breakers,
    ) -> None:
        self._db = db
        self._table = table
        self._owner = owner
        self._settings = settings
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._refreshed = -float("inf")
        self._mirror = self._machine()
        self._probing: set[str] = set()
        self._probe_lease = settings.delivery_lease_seconds

    def _machine(self) -> CircuitBreaker:
        s = self._settings
        return CircuitBreaker(
            s.breaker_failure_threshold, s.breaker_cooldown_seconds, s.breaker_max_cooldown_seconds, clock=self._clock
        )

    # ------------------------------------------------ event-loop side: no I/O

    def state(self, key: str) -> BreakerState:
        return self._mirror.state(key)

    def may_probe(self, key: str) -> bool:
        """Whether this worker holds the half-open probe of `key`."""
        return key in self._probing

    def known(self, key: str) -> bool:
        """Whether the store had a row for `key` at the last refresh (a success must then clear it)."""
        return self._mirror.stored(key) is not None

    def snapshot(self) -> dict[str, BreakerSnapshot]:
        return self._mirror.snapshot()

    def allowance(self, key: str, cap: int) -> int:
        """Batches this worker may have in flight to `key`: none while its circuit is open (or half-open
        and probed by another worker), the one probe while half-open, else `cap`."""
        state = self._mirror.state(key)
        if state is BreakerState.CLOSED:
            return cap
        if state is BreakerState.HALF_OPEN and key in self._probing:
            return 1
        return 0

    async def heed(self, key: str, recipient_failed: bool, recipient_alive: bool) -> None:
        """Feed one batch's answer to the circuit: a failure counts towards opening it, a live answer closes it.

        The store is written (in a thread) only for a failure or to close a circuit that exists.
        """
        if recipient_failed:
            await asyncio.to_thread(self.record_failure, key)
        elif recipient_alive and self.known(key):
            await asyncio.to_thread(self.record_success, key)

    # ------------------------------------------------ store side: call from a thread

    def refresh_due(self) -> bool:
        """Whether `refresh` would read the store now: asked on the event loop, so a round hops to a
        thread for it only every refresh_seconds, not on every round."""
        return self._clock() - self._refreshed >= self._refresh_seconds

    def refresh(self, force: bool = False) -> None:
        """Re-read every stored circuit (at most every refresh_seconds) and try for the probes that are due."""
        now = self._clock()
        if not force and now - self._refreshed < self._refresh_seconds:
            return
        self._refreshed = now
        with read_engine(self._db).connect() as conn:
            rows = conn.execute(select(self._table)).all()
        mirror = self._machine()
        for row in rows:
            state = BreakerState(row.state)
            mirror.load(row.recipient_dip_id, state, row.failures, row.cooldown_seconds, row.opened_at)
        due = [row.recipient_dip_id for row in rows if mirror.state(row.recipient_dip_id) is BreakerState.HALF_OPEN]
        probing = {key for key in due if self._claim_probe(key, now)}
        self._mirror, self._probing = mirror, probing

    def _claim_probe(self, key: str, now: float) -> bool:
        b = self._table.c
        free = or_(b.probe_until.is_(None), b.probe_until < now, b.probe_owner == self._owner)
        with self._db.begin(urgent=True) as conn:
            result = conn.execute(
                update(self._table)
                .where(b.recipient_dip_id == key, b.opened_at + b.cooldown_seconds <= now, free)
                .values(probe_owner=self._owner, probe_until=now + self._probe_lease)
            )
            return bool(result.rowcount)

    def record_failure(self, key: str) -> None:
        """Count one failed batch for every worker; open (or re-open, doubled) the circuit when it is due."""
        with self._db.begin(urgent=True) as conn:
            machine = self._machine()
            row = self._locked(conn, key)
            if row is not None:
                machine.load(key, BreakerState(row.state), row.failures, row.cooldown_seconds, row.opened_at)
            machine.record_failure(key)
            stored = machine.stored(key)
            assert stored is not None, "a failure always leaves a circuit"
            state, failures, cooldown, opened_at = stored
            values = {
                "state": state.value,
                "failures": failures,
                "cooldown_seconds": cooldown,
                "opened_at": opened_at,
                "probe_owner": None,
                "probe_until": None,
                "updated_at": self._clock(),
            }
            conn.execute(update(self._table).where(self._table.c.recipient_dip_id == key).values(**values))
        self._mirror.load(key, state, failures, cooldown, opened_at)
        self._probing.discard(key)

    def record_success(self, key: str) -> None:
        """The recipient answered: its circuit closes for every worker."""
        with self._db.begin(urgent=True) as conn:
            conn.execute(delete(self._table).where(self._table.c.recipient_dip_id == key))
        self._mirror.record_success(key)
        self._probing.discard(key)

    def _locked(self, conn: Connection, key: str) -> Row[Any] | None:
        """The recipient's row under a row lock, created closed if it was missing (two workers may race to)."""
        dialect = sqlite if self._db.is_sqlite else postgresql
        fresh = {
            "recipient_dip_id": key,
            "state": BreakerState.CLOSED.value,
            "failures": 0,
            "cooldown_seconds": 0.0,
            "opened_at": 0.0,
            "updated_at": self._clock(),
        }
        conn.execute(dialect.insert(self._table).values(**fresh).on_conflict_do_nothing())
        query = select(self._table).where(self._table.c.recipient_dip_id == key).with_for_update()
        row = conn.execute(query).first()
        if row is not None and row.failures == 0 and row.state == BreakerState.CLOSED.value:
            return None  # the row we just created: a clean closed circuit
        return row


def tripped_circuits(conn: Connection, table: Table, recipients: set[str], owner: str, now: float) -> set[str]:
    """Recipients whose shared circuit is open to this worker, read in the claim's own transaction.

    The worker chose its groups from its mirror of the circuits, which may be up to a refresh old:
    a circuit another worker opened since then must still stop the claim. The rows are read FOR
    SHARE (PostgreSQL; SQLite's single writer already orders them), so a failure that opens a
    circuit commits either before this claim, and is seen here, or after its leases are visible.
    Only the worker holding the half-open probe may claim for an open circuit past its cooldown.
    Every circuit that is not closed is read (a few rows: closed circuits are deleted), by a
    statement compiled once (db/prepared.py), and the claim's recipients picked out of them.
    """
    if not recipients:
        return set()
    statement = _TRIPPED.get(table.name)
    if statement is None:
        statement = _TRIPPED[table.name] = Prepared(lambda _: _tripped(table))
    return {recipient for (recipient,) in statement.run(conn, {"now": now, "owner": owner}) if recipient in recipients}


_TRIPPED: dict[str, Prepared] = {}


def _tripped(table: Table) -> Select[Any]:
    c = table.c
    now, owner = bindparam("now", type_=c.opened_at.type), bindparam("owner", type_=c.probe_owner.type)
    return (
        select(c.recipient_dip_id)
        .where(
            c.state != "closed",
            or_(c.opened_at + c.cooldown_seconds > now, c.probe_owner.is_(None), c.probe_owner != owner),
        )
        .with_for_update(read=True)
    )
