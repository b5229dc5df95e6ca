"""The journal by day on PostgreSQL: one partition per UTC day of `at`, so retention drops a day whole.

The journal is the biggest table (about 3.5 rows per message) and the one
retention removes most of; deleting its old rows one batch at a time costs
index maintenance that grows with the table. Partitioned by range of `at`
(epoch seconds, day bounds), a day that retention has archived is detached and
dropped: a catalogue operation whose cost does not depend on how many rows the
table or the day holds.

- `journal` is partitioned by RANGE (at); its primary key is (id, at), as
  PostgreSQL requires the partition key in every unique key (ids still come
  from the one sequence, so id alone stays unique in practice).
- `journal_pYYYYMMDD` hold one UTC day each, created ahead by a background loop.
- `journal_default` takes any row no day partition covers (a day not yet
  created, an old row restored from an archive): a write never fails.
- `journal_legacy`, when the table was converted with rows in it, holds them
  as they were (attached, not copied), up to the end of the newest row's day;
  retention deletes its rows as it did before partitioning.

SQLite keeps one plain table (it has no partitions; an embedded store's history
is small) and retention's row deletes. The conversion is shared by the
migration and by a store created at head, so both build the same schema.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

DAY = 86_400
PARENT = "journal"
DEFAULT = "journal_default"
LEGACY = "journal_legacy"
AHEAD = 7
"""Days after today whose partitions exist before they are needed."""
BEFORE_RECEIPT = DAY
"""How far before a stored message's received_at its journal may start: its entries are written from its
receipt on (Inbound, then deliveries, statuses and replays later), so a lookup of a stored message's journal
bounds `at` from received_at less this margin (clock steps) and PostgreSQL plans only the day partitions
from then on, not one per day of the whole history kept."""
_DAY_NAME = re.compile(r"^journal_p(\d{8})$")
LOCK_TIMEOUT = "5s"
"""How long a partition change waits for the journal's lock before giving up (and trying again later), so
it never queues ingest's writes behind it for longer."""


@dataclass(frozen=True)
class DayPartition:
    name: str
    day: int
    """Days since the epoch (UTC)."""

    @property
    def starts(self) -> float:
        return float(self.day * DAY)

    @property
    def ends(self) -> float:
        return float((self.day + 1) * DAY)


def day_of(at: float) -> int:
    return int(at // DAY)


def name_of(day: int) -> str:
    return "journal_p" + datetime.fromtimestamp(day * DAY, UTC).strftime("%Y%m%d")


def _day_from_name(name: str) -> int | None:
    found = _DAY_NAME.match(name)
    if found is None:
        return None
    stamp = datetime.strptime(found.group(1), "%Y%m%d").replace(tzinfo=UTC)
    return day_of(stamp.timestamp())


def is_partitioned(conn: Connection) -> bool:
    """True on a PostgreSQL store whose journal is partitioned by day (never on SQLite)."""
    if conn.dialect.name != "postgresql":
        return False
    query = text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :parent AND c.relnamespace = current_schema()::regnamespace)"
    )
    return bool(conn.execute(query, {"parent": PARENT}).scalar_one())


def partitions(conn: Connection) -> list[str]:
    """Every partition of the journal (days, default, legacy), by name."""
    query = text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname = :parent AND p.relnamespace = current_schema()::regnamespace ORDER BY c.relname"
    )
    return [str(name) for name in conn.execute(query, {"parent": PARENT}).scalars()]


def days(conn: Connection) -> list[DayPartition]:
    """The day partitions, oldest first."""
    found = [DayPartition(name, day) for name in partitions(conn) if (day := _day_from_name(name)) is not None]
    return sorted(found, key=lambda p: p.day)


def days_ahead(conn: Connection, now: float) -> int:
    """How many days after today have their partition, counting on from tomorrow until one is missing."""
    have = {p.day for p in days(conn)}
    today, ahead = day_of(now), 0
    while today + ahead + 1 in have:
        ahead += 1
    return ahead


def partition_by_day(conn: Connection, now: float | None = None) -> None:
    """Turn the plain journal table into the partitioned one (PostgreSQL; inside the caller's transaction).

    The existing table becomes `journal_legacy` (renamed, not copied) and is attached for every time up to
    the end of its newest row's day, after a CHECK proves its rows fit (one scan, no copy; its primary key is
    rebuilt as (id, at)). An empty table is simply replaced. Then the default partition and the partitions
    of today and the next `AHEAD` days (from the day after the legacy range, if it reaches further).
    """
    now = time.time() if now is None else now
    run = conn.exec_driver_sql
    newest = conn.execute(text("SELECT max(at) FROM journal")).scalar_one_or_none()
    run("ALTER TABLE journal RENAME TO journal_legacy")
    run("ALTER TABLE journal_legacy DROP CONSTRAINT journal_pkey")
    run("ALTER INDEX ix_journal_transaction RENAME TO journal_legacy_transaction_id_id_idx")
    run("ALTER INDEX ix_journal_at RENAME TO journal_legacy_at_idx")
    run("ALTER TABLE journal_legacy ALTER COLUMN id DROP DEFAULT")
    run("ALTER SEQUENCE journal_id_seq OWNED BY NONE")
    run("CREATE TABLE journal (LIKE journal_legacy) PARTITION BY RANGE (at)")
    run("ALTER TABLE journal ALTER COLUMN id SET DEFAULT nextval('journal_id_seq'::regclass)")
    run("ALTER SEQUENCE journal_id_seq OWNED BY journal.id")
    run("ALTER TABLE journal ADD CONSTRAINT journal_pkey PRIMARY KEY (id, at)")
    run("CREATE INDEX ix_journal_transaction ON journal (transaction_id, id)")
    run("CREATE INDEX ix_journal_at ON journal (at)")
    first = day_of(now)
    if newest is None:
        run("DROP TABLE journal_legacy")
    else:
        bound = (day_of(float(newest)) + 1) * DAY
        run("ALTER TABLE journal_legacy ADD CONSTRAINT journal_legacy_pkey PRIMARY KEY (id, at)")
        run(f"ALTER TABLE journal_legacy ADD CONSTRAINT journal_legacy_range CHECK (at < {bound})")
        run(f"ALTER TABLE journal ATTACH PARTITION journal_legacy FOR VALUES FROM (MINVALUE) TO ({bound})")
        first = max(first, bound // DAY)
    run(f"CREATE TABLE {DEFAULT} PARTITION OF journal DEFAULT")
    for day in range(first, day_of(now) + AHEAD + 1):
        add_day(conn, day)


def unpartition(conn: Connection) -> None:
    """Back to one plain table (a downgrade): every row copied into it, the partitions dropped."""
    run = conn.exec_driver_sql
    run("CREATE TABLE journal_plain (LIKE journal INCLUDING DEFAULTS)")
    run("INSERT INTO journal_plain SELECT * FROM journal")
    run("ALTER SEQUENCE journal_id_seq OWNED BY NONE")
    run("DROP TABLE journal CASCADE")
    run("ALTER TABLE journal_plain RENAME TO journal")
    run("ALTER SEQUENCE journal_id_seq OWNED BY journal.id")
    run("ALTER TABLE journal ADD CONSTRAINT journal_pkey PRIMARY KEY (id)")
    run("CREATE INDEX ix_journal_transaction ON journal (transaction_id, id)")
    run("CREATE INDEX ix_journal_at ON journal (at)")


def add_day(conn: Connection, day: int) -> bool:
    """Create the partition of one day if it is missing (inside the caller's transaction); True if made.

    Made as a table of its own with a CHECK of its range, filled with any rows of that day the default
    partition took meanwhile (moved), then attached: ATTACH takes a lock that lets the journal's readers
    and writers go on (CREATE ... PARTITION OF would stop them), and the CHECK spares it a scan.
    """
    name = name_of(day)
    if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar_one() is not None:
        return False
    starts, ends = day * DAY, (day + 1) * DAY
    run = conn.exec_driver_sql
    run(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    run(f"CREATE TABLE {name} (LIKE journal)")
    run(f"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (at >= {starts} AND at < {ends})")
    within = f"at >= {starts} AND at < {ends}"
    if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE {within})")).scalar_one():
        run(f"INSERT INTO {name} SELECT * FROM {DEFAULT} WHERE {within}")
        run(f"DELETE FROM {DEFAULT} WHERE {within}")
    run(f"ALTER TABLE journal ATTACH PARTITION {name} FOR VALUES FROM ({starts}) TO ({ends})")
    return True


def ensure_ahead(conn: Connection, now: float, ahead: int = AHEAD) -> list[str]:
    """Today's partition and the next `ahead` days' (those missing); the names made."""
    made = []
    for day in range(day_of(now), day_of(now) + ahead + 1):
        if add_day(conn, day):
            made.append(name_of(day))
    return made


def count_rows(conn: Connection, name: str) -> int:
    """The rows a partition holds, its writers held off (SHARE lock) until the caller's transaction ends."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    conn.exec_driver_sql(f"LOCK TABLE {name} IN SHARE MODE")
    return int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())


def drop(conn: Connection, name: str) -> None:
    """Detach one partition and drop it (inside the caller's transaction).

    Not DETACH ... CONCURRENTLY: PostgreSQL refuses it while the table has a default partition, and the
    default partition is what keeps a write from ever failing. A plain DETACH holds the journal's lock only
    for the catalogue change (no rows are read or written), and gives up after `LOCK_TIMEOUT` rather than
    queue ingest behind a long reader.
    """
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    conn.exec_driver_sql(f"ALTER TABLE journal DETACH PARTITION {name}")
    conn.exec_driver_sql(f"DROP TABLE {name}")
