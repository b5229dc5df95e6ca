"""Grow a store to millions of messages in minutes, for the scale benchmark (bench/bench_scale.py).

The rows are what a hub that has run for a while holds: messages of six
interfaces from twelve senders, each with one or two deliveries (a primary
recipient among ten and, for half of them, the distributor), and the journal
rows ingest and delivery write (Inbound, Addressing, one Outbound per
delivery). Traffic arrives at a steady 100,000 messages a day ending at
`anchor`, so a bigger store is a longer history, not a busier day: 0.1M is one
day, 1M ten days, 10M a hundred days, and the last 24 hours always hold the
same messages. Message n was received `n * 0.864` s before `anchor`; growing
the store adds older history (higher n). MPANs repeat (5 million distinct), so
a search by MPAN finds that meter's handful of messages across the history.

State mix: the newest 2,000 messages are still pending (the live backlog,
the same at every size); of the rest, 0.5 % were rejected by the recipient,
0.5 % exhausted their retries, 0.2 % ended unknown, the rest were delivered.

The rows are generated inside the database in one INSERT ... SELECT per table
and chunk (generate_series on PostgreSQL, a recursive CTE on SQLite): no row
crosses the driver, which is several times faster than COPY or executemany
from Python (bench/seed_store.py). Secondary indexes are dropped first and
built again afterwards from their own stored definitions (a sort per index
instead of millions of random inserts), so the schema after seeding is exactly
the migrated one.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Callable
from typing import Any

DAY_MESSAGES = 100_000
STEP = 86_400 / DAY_MESSAGES
PENDING_NEWEST = 2_000
CHUNK = 250_000
SENDERS = [f"23000{i:05d}" for i in range(900, 910)] + ["1009012345", "1100000001"]
RECIPIENTS = [f"24000{i:05d}" for i in range(100, 110)]
DISTRIBUTORS = ["1100000001", "1100000002", "1100000003", "1100000004"]
INTERFACES = ["IF-021"] * 8 + ["IF-043"] * 4 + ["IF-036"] * 3 + ["IF-044"] * 2 + ["IF-022"] * 2 + ["IF-032"]
TABLES = ("messages", "deliveries", "journal")
PAD = "x" * 400  # a stored payload of about 700 bytes, like a real IF-043 item


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def _case(values: list[str], index: str) -> str:
    """A CASE picking values[index] (SQLite has no arrays)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE {index} {whens} END)"


def expressions(pg: bool) -> dict[str, str]:
    """SQL for each generated value, in terms of the row number n and the anchor time :anchor."""
    pick: Callable[[list[str], str], str] = (lambda values, index: f"({_array(values)})[1 + {index}]") if pg else _case
    concat = "||"
    sender = pick(SENDERS, f"(n % {len(SENDERS)})")
    interface = pick(INTERFACES, f"((n / {len(SENDERS)}) % {len(INTERFACES)})")
    mpan = "CAST(2000000000000 + (n * 7919) % 5000000 AS TEXT)"
    reference = f"'SEED-' {concat} CAST(n AS TEXT)"
    transaction = f"'T-' {concat} {interface} {concat} '-' {concat} {sender} {concat} '-SUP-' {concat} {reference}"
    received = f"(:anchor - n * {STEP})"
    hashed = "((n * 2654435761) % 1000)"
    state = (
        f"(CASE WHEN n < {PENDING_NEWEST} THEN 'pending' WHEN {hashed} < 5 THEN 'rejected' "
        f"WHEN {hashed} < 10 THEN 'exhausted' WHEN {hashed} < 12 THEN 'unknown' ELSE 'delivered' END)"
    )
    template = (
        '{"CommonBlock":{"S0":{"interfaceID":"@I","schemaVersion":"011"},"S1":{"senderUniqueReference":"@R",'
        '"senderDIPID":"@S","subText":"' + PAD + '"},"M0":{"MPANCore":"@M"},"A0":{"primaryRecipients":["@P"]}}}'
    )
    parts = {"@I": interface, "@R": reference, "@S": sender, "@M": mpan, "@P": pick(RECIPIENTS, "((n * 7) % 10)")}
    payload_text = "'" + template + "'"
    for token, sql in parts.items():
        payload_text = payload_text.replace(token, f"' || {sql} || '")
    payload = f"convert_to({payload_text}, 'UTF8')" if pg else f"CAST({payload_text} AS BLOB)"
    return {
        "sender": sender,
        "interface": interface,
        "mpan": mpan,
        "reference": reference,
        "transaction": transaction,
        "received": received,
        "state": state,
        "payload": payload,
        "primary": pick(RECIPIENTS, "((n * 7) % 10)"),
        "distributor": pick(DISTRIBUTORS, "((n / 2) % 4)"),
        "correlation": f"(CASE WHEN n % 10 = 0 THEN 'COR-' {concat} CAST(n / 10 AS TEXT) END)",
        "false": "false" if pg else "0",
        "hash": "lpad(CAST(n AS TEXT), 64, '0')" if pg else f"substr('{'0' * 64}' || CAST(n AS TEXT), -64)",
    }


def statements(pg: bool) -> list[str]:
    """INSERT ... SELECT for the three tables over the rows n in [:first, :last)."""
    x = expressions(pg)
    source = "generate_series(CAST(:first AS bigint), CAST(:last AS bigint) - 1) AS g(n)" if pg else "seq"
    prefix = (
        "" if pg else "WITH RECURSIVE seq(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < :last) "
    )
    # what the settle step marks (migration 0020): the seed writes settled rows itself
    failed_at = f"(CASE WHEN {x['state']} IN ('rejected', 'exhausted', 'unknown') THEN {x['received']} + 0.5 END)"
    messages = (
        f"{prefix}INSERT INTO messages (transaction_id, interface_id, event_code, schema_version, sender_dip_id, "
        "sender_role, sender_unique_reference, correlation_id, connection_provider_id, mpan, environment_tag, "
        "content_hash, received_at, payload, failed_at) "
        f"SELECT {x['transaction']}, {x['interface']}, '[SeededEvent]', '011', {x['sender']}, 'SUP', "
        f"{x['reference']}, {x['correlation']}, NULL, {x['mpan']}, 'PROD', "
        f"{x['hash']}, "
        f"{x['received']}, {x['payload']}, {failed_at} FROM {source}"
    )
    delivery_columns = (
        "transaction_id, recipient_dip_id, interface_id, recipient_kind, publication_id, replay, state, attempts, "
        "next_attempt_at, created_at, delivered_at, last_http_status"
    )
    state = x["state"]
    outcome = (
        f"{state}, (CASE {state} WHEN 'pending' THEN 0 WHEN 'exhausted' THEN 8 ELSE 1 END), "
        f"{x['received']} + (CASE WHEN {state} = 'pending' THEN 0 ELSE 0.5 END), {x['received']}, "
        f"(CASE {state} WHEN 'delivered' THEN {x['received']} + 0.05 END), "
        f"(CASE {state} WHEN 'delivered' THEN 200 WHEN 'rejected' THEN 400 WHEN 'exhausted' THEN 503 END)"
    )
    deliveries = (
        f"{prefix}INSERT INTO deliveries ({delivery_columns}) "
        f"SELECT {x['transaction']}, {x['primary']}, {x['interface']}, 'primary', 'PUB-001', {x['false']}, "
        f"{outcome} FROM {source} "
        f"UNION ALL SELECT {x['transaction']}, {x['distributor']}, {x['interface']}, 'secondary', 'PUB-001', "
        f"{x['false']}, {outcome} FROM {source} WHERE n % 2 = 0"
    )
    status = (
        f"(CASE {state} WHEN 'delivered' THEN 'Delivered' WHEN 'rejected' THEN 'RejectedByRecipient' "
        "WHEN 'exhausted' THEN 'RetriesExhausted' WHEN 'unknown' THEN 'UnknownDeliveryStatus' END)"
    )
    journal = (
        f"{prefix}INSERT INTO journal (transaction_id, stage, status, recipient_dip_id, at, duration_ms) "
        f"SELECT {x['transaction']}, 'Inbound', 'GoodToGo', NULL, {x['received']}, 2.0 FROM {source} "
        f"UNION ALL SELECT {x['transaction']}, 'Addressing', 'SentToTopic', NULL, {x['received']}, NULL FROM {source} "
        f"UNION ALL SELECT {x['transaction']}, 'Outbound', {status}, {x['primary']}, {x['received']} + 0.05, 40.0 "
        f"FROM {source} WHERE n >= {PENDING_NEWEST} "
        f"UNION ALL SELECT {x['transaction']}, 'Outbound', {status}, {x['distributor']}, {x['received']} + 0.05, 40.0 "
        f"FROM {source} WHERE n >= {PENDING_NEWEST} AND n % 2 = 0"
    )
    day = f"CAST(floor({x['received']} / 86400) AS INTEGER)" if pg else f"CAST({x['received']} / 86400 AS INTEGER)"
    keys = [  # each message's keys, as ingest writes them (migration 0022)
        f"{prefix}INSERT INTO message_keys (transaction_id, received_day) "
        f"SELECT {x['transaction']}, {day} FROM {source}",
        f"{prefix}INSERT INTO sender_references (sender_dip_id, sender_unique_reference, transaction_id) "
        f"SELECT {x['sender']}, {x['reference']}, {x['transaction']} FROM {source}",
    ]
    return [messages, *keys, deliveries, journal]


def _pg_bind(sql: str, params: dict[str, Any]) -> str:
    for key, value in params.items():
        sql = sql.replace(f":{key}", repr(value))
    return sql


# ---------------------------------------------------------------- index handling


def _sqlite_secondary_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (?, ?, ?)",
        TABLES,
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


# ---------------------------------------------------------------- seeding (PostgreSQL: seed_scale_pg.py)


def seed_sqlite(path: str, first: int, last: int, anchor: float, log: Callable[[str], None] = print) -> float:
    began = time.time()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("PRAGMA foreign_keys=OFF")
    indexes = _sqlite_secondary_indexes(conn)
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    sqls = statements(False)
    for start in range(first, last, CHUNK):
        params = {"first": start, "last": min(last, start + CHUNK), "anchor": anchor}
        conn.execute("BEGIN")
        for sql in sqls:
            conn.execute(sql, params)
        conn.execute("COMMIT")
        log(f"  sqlite: {params['last']:,} messages ({time.time() - began:.0f} s)")
    for _, definition in indexes:
        conn.execute(definition)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.time() - began


def add_participants(url: str) -> None:
    """The seeded senders and recipients as registered participants, so pages show their names."""
    from sqlalchemy import insert, select

    from opendip.db.engine import Database
    from opendip.db.models import participants

    db = Database.from_url(url)
    try:
        with db.begin() as conn:
            known = set(conn.execute(select(participants.c.dip_id)).scalars())
            rows = [
                {
                    "dip_id": dip_id,
                    "role": role,
                    "name": f"Seeded {role} {dip_id}",
                    "status": "active",
                    "created_at": 0.0,
                }
                for ids, role in ((SENDERS, "SUP"), (RECIPIENTS, "SUP"), (DISTRIBUTORS, "LDSO"))
                for dip_id in ids
                if dip_id not in known
            ]
            rows = list({row["dip_id"]: row for row in rows}.values())
            if rows:
                conn.execute(insert(participants), rows)
    finally:
        db.dispose()


def count_hours(url: str) -> None:
    """The dashboard's hourly counts of the seeded messages (core/hour_counts.py), as the migration counts them."""
    from opendip.core.hour_counts import rebuild
    from opendip.db.engine import Database

    db = Database.from_url(url)
    try:
        with db.begin() as conn:
            rebuild(conn)
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "url", help="a migrated store: sqlite:///path.db or postgresql://...?options=-csearch_path%%3D..."
    )
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--last", type=int, required=True)
    parser.add_argument("--anchor", type=float, default=time.time())
    parser.add_argument("--nice", type=int, default=0, help="renice the seeding PostgreSQL backend (local, as root)")
    parser.add_argument("--jobs", type=int, default=1, help="PostgreSQL sessions writing chunks and building indexes")
    parser.add_argument(
        "--finish",
        metavar="SCHEMA",
        help="only build the secondary indexes SCHEMA lacks and VACUUM ANALYZE (a seed stopped after its rows)",
    )
    args = parser.parse_args()
    from seed_scale_pg import finish_postgres, seed_postgres

    if args.finish:
        seconds = finish_postgres(args.url.replace("+psycopg", ""), args.finish, args.jobs, args.nice)
        print(f"finished {args.finish} in {seconds:.0f} s")
        return
    if args.url.startswith("sqlite"):
        seconds = seed_sqlite(args.url.split("///", 1)[1], args.first, args.last, args.anchor)
    else:
        seconds = seed_postgres(
            args.url.replace("+psycopg", ""), args.first, args.last, args.anchor, nice=args.nice, jobs=args.jobs
        )
    count_hours(args.url)
    print(f"seeded {args.last - args.first:,} messages in {seconds:.0f} s")


if __name__ == "__main__":
    main()
