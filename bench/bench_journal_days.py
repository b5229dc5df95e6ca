"""Journal purge on PostgreSQL: day partitions dropped whole against row deletes, as the store grows.

    nice -n 19 .venv/bin/python bench/bench_journal_days.py --sizes 20000 300000 --purge 10000

Each store (a fresh PostgreSQL schema) is seeded (bench/seed_store.py: three journal entries per message)
with `--purge` messages in the two oldest days and the rest of `size` spread over the following 58 days;
the old messages themselves are then deleted (untimed), so their journal entries are what retention takes.
The same run then archives and purges those two days' entries twice per size: from the journal partitioned
by day (`partitioned`: archived, each day detached and dropped) and from the same journal as one plain
table (`plain`: the layout before migration 0019, archived then deleted `--batch` rows a transaction).

Reported per layout and size: the purge's own time per 1,000 entries (the delete transactions, or the
drop transactions), the longest such transaction (the most ingest ever waits for the journal), the whole
run (archiving included), and the ratio of each against the layout's smallest store in the same run; then
what partitions cost the everyday work: a message's journal by transaction ID (every day partition's index
is probed) and journal writes (50 rows a transaction, routed to their day).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database
from bench.seed_store import REGS, seed_postgres
from sqlalchemy import text

from opendip.config import Settings
from opendip.core import journal
from opendip.core.journal import Stage
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.ops.backup_engines import libpq_url
from opendip.ops.retention import RetentionService
from opendip.ops.retention_kinds import KINDS
from opendip.status.tracking import journal_rows

DAY = float(journal_days.DAY)
SPAN_DAYS = 60
OLD_DAYS = 2
ENTRIES = 3  # per seeded message: Inbound, Addressing, Outbound


def run_size(layout: str, size: int, purge: int, batch: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="opendip-journal-days-") as scratch,
        database("postgres", Path(scratch), "journal_days") as url,
    ):
        now = time.time()
        first_day = journal_days.day_of(now) - SPAN_DAYS
        start, old_end = first_day * DAY, (first_day + OLD_DAYS) * DAY
        db = Database.from_url(url)
        upgrade(db.engine)
        with db.begin() as conn:
            if layout == "plain":
                journal_days.unpartition(conn)
            else:  # the past days' partitions, as the loop would have made them then
                journal_days.ensure_ahead(conn, start, ahead=SPAN_DAYS)
        dsn = libpq_url(url)
        old_step = (old_end - 60 - start) / purge  # every old entry (Outbound is 0.05 s later) inside the old days
        seeded = seed_postgres(dsn, 0, purge, start, old_step)
        seeded += seed_postgres(dsn, purge, size - purge, old_end, (now - 3600 - old_end) / (size - purge))
        with db.begin() as conn:  # the old messages are gone already: their journal is retention's to take
            conn.execute(text("DELETE FROM deliveries WHERE created_at < :end"), {"end": old_end})
            conn.execute(text("DELETE FROM messages WHERE received_at < :end"), {"end": old_end})
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        settings = Settings(data_dir=Path(scratch), database_url=url, retention_batch=batch)
        service = RetentionService(settings, db, clock=lambda: now)
        began = time.perf_counter()
        result = service.run_kind(KINDS["journal"], old_end)
        seconds = time.perf_counter() - began
        lookup_ms, write_rate = reads_and_writes(db, purge, size, now)
        db.dispose()
        expected = purge * ENTRIES
        assert result.purged == expected, f"purged {result.purged}, expected {expected}"
        return {
            "layout": layout,
            "stored_messages": size,
            "journal_rows": size * ENTRIES,
            "purged": result.purged,
            "dropped": len(result.dropped),
            "seed_seconds": round(seeded, 1),
            "seconds": round(seconds, 2),
            "purge_ms_per_1000": round(result.purge_ms / expected * 1000, 2),
            "purge_ms": round(result.purge_ms, 1),
            "longest_write_ms": round(result.longest_write_ms, 1),
            "lookup_ms": round(lookup_ms, 3),
            "journal_writes_per_s": round(write_rate),
        }


def reads_and_writes(db: Database, first: int, size: int, now: float) -> tuple[float, float]:
    """After the purge: one message's journal by transaction ID (the tracking read), ms each over 300 lookups
    spread over the stored ones; and journal rows written at now, 50 a transaction, rows per second."""
    picks = [f"T-IF-043-{REGS}-REGS-SEED-{n:012d}" for n in range(first, size, max(1, (size - first) // 300))]
    with db.engine.connect() as conn:
        journal_rows(conn, picks[:5])  # warm the plan cache
        began = time.perf_counter()
        for tx in picks:
            assert len(journal_rows(conn, [tx])[tx]) == ENTRIES
        lookup_ms = (time.perf_counter() - began) * 1000 / len(picks)
    batches = 200
    began = time.perf_counter()
    for b in range(batches):
        rows = [journal.entry(f"T-W-{b}-{k}", Stage.INBOUND, "GoodToGo", at=now + k) for k in range(50)]
        with db.begin() as conn:
            journal.record(conn, rows)
    return lookup_ms, batches * 50 / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 300_000])
    parser.add_argument("--purge", type=int, default=10_000, help="old messages whose journal is purged")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--layouts", nargs="+", choices=("plain", "partitioned"), default=["plain", "partitioned"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if min(args.sizes) <= args.purge:
        parser.error("every size must be larger than --purge (the rest of the store is what grows)")
    rows = []
    for layout in args.layouts:
        measured = [run_size(layout, size, args.purge, args.batch) for size in sorted(args.sizes)]
        base = measured[0]
        for row in measured:
            row["purge_ratio"] = round(row["purge_ms"] / max(base["purge_ms"], 0.001), 2)
            row["longest_write_ratio"] = round(row["longest_write_ms"] / max(base["longest_write_ms"], 0.001), 2)
            row["run_ratio"] = round(row["seconds"] / max(base["seconds"], 0.001), 2)
            print(json.dumps(row), flush=True)
        rows += measured
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
