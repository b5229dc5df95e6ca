"""Seed a store with N accepted messages fast, for the operations benchmarks (backups, purge, drain).

Rows are what ingest writes: one message (about 2 KB payload), one delivery per
message and the Inbound, Addressing and Outbound journal entries. They go in
with the driver's bulk path (sqlite3 executemany, PostgreSQL COPY), not the
send API: a million messages through the API would take the benchmark's whole
hour and measure ingest, which bench/run.py already does.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg

CHUNK = 20_000
REGS, SUP = "1009012345", "2300000900"
PAD = "x" * 900  # brings the stored payload to about 2 KB, like the bench's send messages

MESSAGE_COLUMNS = [
    "transaction_id",
    "interface_id",
    "event_code",
    "schema_version",
    "sender_dip_id",
    "sender_role",
    "sender_unique_reference",
    "correlation_id",
    "connection_provider_id",
    "mpan",
    "environment_tag",
    "content_hash",
    "received_at",
    "payload",
]
DELIVERY_COLUMNS = [
    "transaction_id",
    "recipient_dip_id",
    "interface_id",
    "recipient_kind",
    "publication_id",
    "replay",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "delivered_at",
    "last_http_status",
]
JOURNAL_COLUMNS = ["transaction_id", "stage", "status", "recipient_dip_id", "at", "duration_ms"]
KEY_COLUMNS = ["transaction_id", "received_day"]
REFERENCE_COLUMNS = ["sender_dip_id", "sender_unique_reference", "transaction_id"]


def _keys(messages: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Each message's keys as ingest writes them (migration 0022): transaction ID and day, sender's reference."""
    return [(m[0], int(m[12] // 86400)) for m in messages], [(m[4], m[6], m[0]) for m in messages]


def _payload(n: int, recipient: str) -> bytes:
    return orjson.dumps(
        {
            "CommonBlock": {
                "S0": {"interfaceID": "IF-043", "schemaVersion": "011", "eventCode": "[ConnectionTypeChange]"},
                "S1": {
                    "environmentTag": "DEV",
                    "senderUniqueReference": f"SEED-{n:012d}",
                    "senderTimestamp": "2026-11-25T09:30:00+00:00",
                    "senderDIPID": REGS,
                    "senderRoleID": "REGS",
                    "subText": PAD,
                },
                "M0": {"MPANCore": f"{2000000000000 + n}", "distributorDIPID": "1100000001", "GSPGroupID": "_K"},
                "A0": {"primaryRecipients": [recipient], "secondaryRecipients": [], "always": []},
            },
            "CustomBlock": {"B023": {"connectionTypeIndicator": "L", "energyDirection": "I"}},
        }
    )


def rows(
    first: int, count: int, start: float, step: float, *, recipient: str = SUP, state: str = "delivered"
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Chunks of (messages, deliveries, journal) rows; message n was received at start + n * step."""
    for chunk_start in range(first, first + count, CHUNK):
        messages, deliveries, journal = [], [], []
        for n in range(chunk_start, min(first + count, chunk_start + CHUNK)):
            tx = f"T-IF-043-{REGS}-REGS-SEED-{n:012d}"
            at = start + (n - first) * step
            delivered = state == "delivered"
            messages.append(
                (tx, "IF-043", "[ConnectionTypeChange]", "011", REGS, "REGS", f"SEED-{n:012d}", None, None,
                 f"{2000000000000 + n}", "DEV", f"{n:064x}", at, _payload(n, recipient))
            )  # fmt: skip
            deliveries.append(
                (tx, recipient, "IF-043", "primary", "PUB-001", False, state, int(delivered), at, at,
                 at + 0.05 if delivered else None, 201 if delivered else None)
            )  # fmt: skip
            journal.append((tx, "Inbound", "GoodToGo", None, at, 2.0))
            journal.append((tx, "Addressing", "SentToTopic", None, at, None))
            if delivered:
                journal.append((tx, "Outbound", "Delivered", recipient, at + 0.05, 40.0))
        yield messages, deliveries, journal


def _insert_sql(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def seed_sqlite(path: str, first: int, count: int, start: float, step: float, **kwargs: Any) -> float:
    """Returns the seconds it took."""
    began = time.time()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    for messages, deliveries, journal in rows(first, count, start, step, **kwargs):
        conn.execute("BEGIN")
        conn.executemany(_insert_sql("messages", MESSAGE_COLUMNS), messages)
        keys, references = _keys(messages)
        conn.executemany(_insert_sql("message_keys", KEY_COLUMNS), keys)
        conn.executemany(_insert_sql("sender_references", REFERENCE_COLUMNS), references)
        conn.executemany(_insert_sql("deliveries", DELIVERY_COLUMNS), deliveries)
        conn.executemany(_insert_sql("journal", JOURNAL_COLUMNS), journal)
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.time() - began


def seed_postgres(dsn: str, first: int, count: int, start: float, step: float, **kwargs: Any) -> float:
    began = time.time()
    with psycopg.connect(dsn) as conn:
        for messages, deliveries, journal in rows(first, count, start, step, **kwargs):
            keys, references = _keys(messages)
            with conn.cursor() as cursor:
                for table, columns, data in (
                    ("messages", MESSAGE_COLUMNS, messages),
                    ("message_keys", KEY_COLUMNS, keys),
                    ("sender_references", REFERENCE_COLUMNS, references),
                    ("deliveries", DELIVERY_COLUMNS, deliveries),
                    ("journal", JOURNAL_COLUMNS, journal),
                ):
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
            conn.commit()
        conn.execute("ANALYZE")
    return time.time() - began
