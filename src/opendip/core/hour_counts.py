"""Hourly counts of the dashboard's series, kept as traffic is stored and settled (table `hour_counts`).

The dashboard counts, for messages received in a window: how many per interface and their outcome
(success, pending, failure), and per recipient how many had a delivery in each state (and in any failed
state). Counted from the rows, a day of traffic is a read of every message of the day and its
deliveries, and PostgreSQL hash-joins that against whole tables: the count grew with the store. Here
each message stands in a few counts of the hour it was received in (`keys`), and every transaction that
changes what a message stands in (ingest, the settle step, a requeue or replay, a retention purge or
restore) adds the difference in the same transaction. A window of whole hours is then a sum of a few
rows per series (`sums`), exact; its partial edge hours are counted from the rows, by index.

Exact under concurrency: what a message stands in depends on all its outbox rows, and two workers may
settle two of them (to two recipients) at once. A writer changing a message's rows first takes the
message's lock (PostgreSQL: a transaction-scoped advisory lock per transaction ID, taken in one order;
SQLite has one writer at a time), reads its rows, and adds the counts' difference between what the
rows were and what they will be. The additions themselves are upserts (`n = n + excluded.n`), deferred
to the end of the transaction (`db.engine.deferred`): one statement, keys in one order, hot rows
locked for the least time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, select

from opendip.core.tables import hour_counts
from opendip.db.engine import deferred
from opendip.db.models import deliveries, messages

HOUR = 3600
ALL, FAILED = "all", "failed"
PENDING = "pending"
FAILED_STATES = frozenset({"rejected", "exhausted", "unknown"})
SUCCESS, FAILURE = "success", "failure"
"""Outcomes as the portal names them (portal.filters.Outcome): failure before pending before success."""
MESSAGE_LEVEL = ""
"""`recipient_dip_id` of a message-level series."""
_LOCK_CLASS = 1717
"""First key of the advisory locks: one class of locks, the second key a transaction ID's hash."""
Key = tuple[int, str, str, str]


def hour_of(received_at: float) -> int:
    return int(received_at // HOUR)


def keys(hour: int, interface: str, rows: Iterable[Sequence[str]]) -> list[Key]:
    """The counts one message stands in, from (recipient, state) of each of its outbox rows."""
    found: list[Key] = [(hour, interface, MESSAGE_LEVEL, ALL)]
    per: dict[str, set[str]] = {}
    for recipient, state, *_ in rows:
        per.setdefault(recipient, set()).add(state)
    if not per:
        return found
    states = set().union(*per.values())
    outcome = FAILURE if states & FAILED_STATES else PENDING if PENDING in states else SUCCESS
    found.append((hour, interface, MESSAGE_LEVEL, outcome))
    for recipient, held in per.items():
        found.append((hour, interface, recipient, ALL))
        found.extend((hour, interface, recipient, state) for state in held)
        if held & FAILED_STATES:
            found.append((hour, interface, recipient, FAILED))
    return found


def stored(
    conn: Connection, message_rows: Sequence[Mapping[str, Any]], delivery_rows: Sequence[Mapping[str, Any]]
) -> None:
    """Ingest: new messages, every outbox row pending (no lock: nobody else sees them before the commit)."""
    recipients: dict[str, list[str]] = {}
    for row in delivery_rows:
        recipients.setdefault(row["transaction_id"], []).append(row["recipient_dip_id"])
    delta: Counter[Key] = Counter()
    for row in message_rows:
        hour, interface = hour_of(row["received_at"]), row["interface_id"]
        delta[(hour, interface, MESSAGE_LEVEL, ALL)] += 1
        to = recipients.get(row["transaction_id"])
        if not to:
            continue
        delta[(hour, interface, MESSAGE_LEVEL, PENDING)] += 1
        for recipient in set(to):
            delta[(hour, interface, recipient, ALL)] += 1
            delta[(hour, interface, recipient, PENDING)] += 1
    add(conn, delta)


@dataclass
class Stored:
    """A message as its counts see it: its hour, interface and outbox rows (id -> [recipient, state, lease owner])."""

    hour: int
    interface: str
    rows: dict[int, list[Any]] = field(default_factory=dict)

    def keys(self) -> list[Key]:
        return keys(self.hour, self.interface, self.rows.values())


def change(conn: Connection, transaction_ids: Collection[str], edit: Callable[[dict[str, Stored]], None]) -> None:
    """Lock these messages, read their rows, let `edit` make them what the caller is about to write, add the difference.

    `edit` changes the `Stored` values in place (a row's state, a row added) or removes messages (purged).
    """
    if not transaction_ids:
        return
    lock(conn, transaction_ids)
    found = read(conn, transaction_ids)
    delta: Counter[Key] = Counter()
    for message in found.values():
        delta.subtract(message.keys())
    edit(found)
    for message in found.values():
        delta.update(message.keys())
    add(conn, delta)


def around(conn: Connection, transaction_ids: Collection[str], action: Callable[[], None]) -> None:
    """Lock these messages and add the difference their rows show after `action` writes (retention's restore)."""
    if not transaction_ids:
        action()
        return
    lock(conn, transaction_ids)
    delta: Counter[Key] = Counter()
    for message in read(conn, transaction_ids).values():
        delta.subtract(message.keys())
    action()
    for message in read(conn, transaction_ids).values():
        delta.update(message.keys())
    add(conn, delta)


Change = tuple[str, str, str, float | None]
"""A row leaving pending: (new state, lease owner, transaction ID or "", its message's received_at or None)."""


def settling(conn: Connection, changes: Mapping[int, Change]) -> Callable[[Collection[int] | None], None]:
    """The settle step: outbox rows about to leave pending, by id (`Change`).

    Locks and reads their messages now, before the rows are written; the returned step adds the difference
    once they are, given the ids the settle statement changed (PostgreSQL: its RETURNING; a row whose lease
    another worker took keeps that worker's result) or None where the lease read here decides (SQLite, one
    writer: nobody can take a lease between this read and the write). The hot path of every delivery: the
    difference is worked out row by row where a message has one row per recipient (no requeued copies).
    """
    received = {tx: at for _, _, tx, at in changes.values()}
    if "" in received or None in received.values():  # a caller that did not say: read them by row and message
        d = deliveries.c
        query = select(d.transaction_id).where(d.id.in_(list(changes)))
        transaction_ids = {str(tx) for tx in conn.execute(query).scalars()}
        lock(conn, transaction_ids)
        found = read(conn, transaction_ids)
    else:  # the worker's rows say when their messages came: their outbox rows are all there is to read
        lock(conn, received)
        found = _outbox_rows(conn, received)  # type: ignore[arg-type]

    def settled(updated: Collection[int] | None) -> None:
        delta: dict[Key, int] = {}
        for message in found.values():
            rows = message.rows
            after: dict[int, str] = {}
            for row_id, row in rows.items():
                new = changes.get(row_id)
                if new is None or new[0] == row[1]:
                    continue
                if row[2] == new[1] if updated is None else row_id in updated:
                    after[row_id] = new[0]
            if after:
                _settled(delta, message, after)
        add(conn, delta)

    return settled


def _settled(delta: dict[Key, int], message: Stored, after: dict[int, str]) -> None:
    """Add what one message's counts become when these rows take these states."""
    hour, interface, rows = message.hour, message.interface, message.rows
    recipients = [row[0] for row in rows.values()]
    if len(set(recipients)) < len(recipients):  # a requeued copy beside its original: count the message afresh
        for key in message.keys():  # noqa: SIM118
            delta[key] = delta.get(key, 0) - 1
        for row_id, state in after.items():
            rows[row_id][1] = state
        for key in message.keys():  # noqa: SIM118
            delta[key] = delta.get(key, 0) + 1
        return
    before_states = [row[1] for row in rows.values()]
    for row_id, state in after.items():
        row = rows[row_id]
        recipient, old = row[0], row[1]
        row[1] = state
        for key, n in (((hour, interface, recipient, old), -1), ((hour, interface, recipient, state), 1)):
            delta[key] = delta.get(key, 0) + n
        if (old in FAILED_STATES) != (state in FAILED_STATES):
            key = (hour, interface, recipient, FAILED)
            delta[key] = delta.get(key, 0) + (1 if state in FAILED_STATES else -1)
    was, now = _outcome(before_states), _outcome([row[1] for row in rows.values()])
    if was != now:
        for key, n in (((hour, interface, MESSAGE_LEVEL, was), -1), ((hour, interface, MESSAGE_LEVEL, now), 1)):
            delta[key] = delta.get(key, 0) + n


def _outcome(states: Iterable[str]) -> str:
    """A message's outcome from its rows' states (it has some): failure before pending before success."""
    pending = False
    for state in states:
        if state in FAILED_STATES:
            return FAILURE
        if state == PENDING:
            pending = True
    return PENDING if pending else SUCCESS


def lock(conn: Connection, transaction_ids: Collection[str]) -> None:
    """PostgreSQL: this transaction's advisory locks on these messages, in one order (SQLite: one writer)."""
    if conn.dialect.name != "postgresql":
        return
    held: set[str] | None = deferred(conn, "hour_counts.locked", set, lambda _c, _s: None)
    wanted = sorted(set(transaction_ids) - held) if held is not None else sorted(set(transaction_ids))
    if not wanted:
        return
    conn.exec_driver_sql(
        "SELECT pg_advisory_xact_lock(%s, k) FROM (SELECT DISTINCT hashtext(t) AS k "
        "FROM unnest(%s::text[]) AS t ORDER BY k) AS keys",
        (_LOCK_CLASS, wanted),
    )
    if held is not None:
        held.update(wanted)


def read(conn: Connection, transaction_ids: Collection[str]) -> dict[str, Stored]:
    """The messages and their outbox rows, by their transaction index (a message with none has no rows)."""
    m, d = messages.c, deliveries.c
    query = (
        select(m.transaction_id, m.received_at, m.interface_id, d.id, d.recipient_dip_id, d.state, d.lease_owner)
        .select_from(messages.outerjoin(deliveries, d.transaction_id == m.transaction_id))
        .where(m.transaction_id.in_(list(transaction_ids)))
    )
    found: dict[str, Stored] = {}
    for tx, received_at, interface, row_id, recipient, state, owner in conn.execute(query):
        message = found.get(tx)
        if message is None:
            message = found[tx] = Stored(hour_of(received_at), interface)
        if row_id is not None:
            message.rows[row_id] = [recipient, state, owner]
    return found


def _outbox_rows(conn: Connection, received: Mapping[str, float]) -> dict[str, Stored]:
    """The messages' outbox rows by their transaction index, through the driver (the settle step's hot path)."""
    columns = "transaction_id, interface_id, id, recipient_dip_id, state, lease_owner"
    keys = list(received)
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(f"SELECT {columns} FROM deliveries WHERE transaction_id = ANY(%s)", (keys,))  # nosec B608
    else:
        marks = ", ".join("?" * len(keys))
        rows = conn.exec_driver_sql(f"SELECT {columns} FROM deliveries WHERE transaction_id IN ({marks})", tuple(keys))  # nosec B608
    found: dict[str, Stored] = {}
    for tx, interface, row_id, recipient, state, owner in rows:
        message = found.get(tx)
        if message is None:
            message = found[tx] = Stored(hour_of(received[tx]), interface)
        message.rows[row_id] = [recipient, state, owner]
    return found


def add(conn: Connection, delta: Mapping[Key, int]) -> None:
    """Add to the counts at the end of this transaction (at once where `Database.begin` did not open it)."""
    nonzero = {key: n for key, n in delta.items() if n}
    if not nonzero:
        return
    kept = deferred(conn, "hour_counts", Counter, _upsert)
    if kept is None:
        _upsert(conn, Counter(nonzero))
    else:
        kept.update(nonzero)


def _upsert(conn: Connection, delta: Counter[Key]) -> None:
    rows = sorted((*key, n) for key, n in delta.items() if n)
    if not rows:
        return
    columns = "hour, interface_id, recipient_dip_id, series, n"
    conflict = "ON CONFLICT (hour, interface_id, recipient_dip_id, series) DO UPDATE SET n = hour_counts.n + excluded.n"
    if conn.dialect.name == "postgresql":
        arrays = [list(column) for column in zip(*rows, strict=True)]
        conn.exec_driver_sql(
            f"INSERT INTO hour_counts ({columns}) SELECT * FROM unnest(%s::integer[], %s::text[], %s::text[], "  # nosec B608
            f"%s::text[], %s::bigint[]) {conflict}",
            tuple(arrays),
        )
    else:
        conn.exec_driver_sql(f"INSERT INTO hour_counts ({columns}) VALUES (?, ?, ?, ?, ?) {conflict}", rows)  # nosec B608


def drop_empty(conn: Connection, before_hour: int) -> None:
    """Retention: at the end of this transaction (after its counts are added), delete the rows of hours before
    `before_hour` that no longer count anything (their messages purged)."""
    kept = deferred(conn, "hour_counts.empty", list, _drop_empty)
    if kept is None:
        _drop_empty(conn, [before_hour])
    else:
        kept.append(before_hour)


def _drop_empty(conn: Connection, before_hours: list[int]) -> None:
    h = hour_counts.c
    conn.execute(delete(hour_counts).where(h.hour < max(before_hours), h.n == 0))


Edges = list[tuple[float | None, float | None]]


def split(since: float | None, until: float | None) -> tuple[Edges, tuple[int | None, int | None] | None]:
    """A window as its whole hours [first, last) (None: open) and the partial edges to count from the rows."""
    first = None if since is None else -int(-since // HOUR)
    last = None if until is None else int(until // HOUR)
    if first is not None and last is not None and first >= last:
        return [(since, until)], None
    edges: Edges = []
    if since is not None and first is not None and since < first * HOUR:
        edges.append((since, float(first * HOUR)))
    if until is not None and last is not None and until > last * HOUR:
        edges.append((float(last * HOUR), until))
    return edges, (first, last)


def sums(conn: Connection, hours: tuple[int | None, int | None], *, recipients: bool) -> list[tuple[str, str, int]]:
    """Summed over whole hours [first, last): (interface, series, n) of the message-level series, or
    (recipient, series, n) of the recipients' (every interface's: a message has one)."""
    h = hour_counts.c
    label = h.recipient_dip_id if recipients else h.interface_id
    where = [h.recipient_dip_id != MESSAGE_LEVEL if recipients else h.recipient_dip_id == MESSAGE_LEVEL]
    first, last = hours
    if first is not None:
        where.append(h.hour >= first)
    if last is not None:
        where.append(h.hour < last)
    query = select(label, h.series, func.sum(h.n)).where(*where).group_by(label, h.series)
    return [(str(key), str(series), int(n)) for key, series, n in conn.execute(query) if n]


def rebuild(conn: Connection) -> None:
    """Count every stored message afresh (the migration's backfill; a seeded store), in SQL."""
    hour = (
        "CAST(floor(m.received_at / 3600) AS INTEGER)"
        if conn.dialect.name == "postgresql"
        else "CAST(m.received_at / 3600 AS INTEGER)"  # truncation: floor for the positive epoch
    )
    failed = "('rejected', 'exhausted', 'unknown')"
    per_message = (
        "SELECT transaction_id, COUNT(*) AS n, "
        f"SUM(CASE WHEN state IN {failed} THEN 1 ELSE 0 END) AS failed, "
        "SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending FROM deliveries GROUP BY transaction_id"
    )
    outcome = (
        f"CASE WHEN f.failed > 0 THEN '{FAILURE}' WHEN f.pending > 0 THEN '{PENDING}' WHEN f.n > 0 THEN '{SUCCESS}' END"
    )
    pairs = (
        f"SELECT DISTINCT {hour} AS hour, m.interface_id, d.recipient_dip_id, d.transaction_id, {{what}} AS series "
        "FROM deliveries d JOIN messages m ON m.transaction_id = d.transaction_id {where}"
    )
    insert = "INSERT INTO hour_counts (hour, interface_id, recipient_dip_id, series, n) "
    statements = [
        "DELETE FROM hour_counts",
        f"{insert}SELECT {hour}, m.interface_id, '', '{ALL}', COUNT(*) FROM messages m GROUP BY 1, 2",
        f"{insert}SELECT hour, interface_id, '', series, COUNT(*) FROM (SELECT {hour} AS hour, m.interface_id, "
        f"{outcome} AS series FROM messages m JOIN ({per_message}) f ON f.transaction_id = m.transaction_id) x "
        "GROUP BY hour, interface_id, series",
    ]
    for what, where in (("d.state", ""), (f"'{ALL}'", ""), (f"'{FAILED}'", f"WHERE d.state IN {failed}")):
        statements.append(
            f"{insert}SELECT hour, interface_id, recipient_dip_id, series, COUNT(*) FROM "
            f"({pairs.format(what=what, where=where)}) x GROUP BY hour, interface_id, recipient_dip_id, series"
        )
    for statement in statements:
        conn.exec_driver_sql(statement)  # nosec B608: constants of this module, no input
