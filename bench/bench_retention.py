"""Retention purge cost against the size of the store: the same number of old messages archived and purged
from a small store and from a store ten times (or more) larger.

    .venv/bin/python bench/bench_retention.py --sizes 100000 1000000 --purge 20000 --engine sqlite

Each store is seeded (bench/seed_store.py) with N delivered messages spread over the past 60 days; the
retention period is set so that exactly the oldest `--purge` messages are older than it. The run archives
then purges them (messages kind: each message with its delivery). Reported per size: seconds per 1,000
purged, the archive and delete phases, the longest purge transaction (the most ingest ever waits for the
store) and the ratio of each against the smallest store in the same run. Flat ratios mean purge cost does
not grow with the store.
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
from bench.seed_store import seed_postgres, seed_sqlite

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.ops.backup_engines import libpq_url
from opendip.ops.retention import DAY, RetentionService
from opendip.ops.retention_kinds import KINDS

SPAN = 60 * DAY


def run_size(engine: str, size: int, purge: int, batch: int, backlog: int = 0) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="opendip-retention-") as scratch,
        database(engine, Path(scratch), "retention") as url,
    ):
        now = time.time()
        start, step = now - SPAN, SPAN / size
        settings = Settings(data_dir=Path(scratch), database_url=url, retention_batch=batch)
        db = Database.from_url(url)
        upgrade(db.engine)
        seeded = (
            seed_sqlite(url.removeprefix("sqlite:///"), 0, size, start, step)
            if engine == "sqlite"
            else seed_postgres(libpq_url(url), 0, size, start, step)
        )
        if backlog:  # a recipient down for days: the newest messages still pending (never purged, never read)
            if engine == "sqlite":
                seed_sqlite(url.removeprefix("sqlite:///"), size, backlog, now - DAY, DAY / backlog, state="pending")
            else:
                seed_postgres(libpq_url(url), size, backlog, now - DAY, DAY / backlog, state="pending")
        cutoff = start + (purge - 0.5) * step
        service = RetentionService(settings, db, clock=lambda: now)
        began = time.perf_counter()
        result = service.run_kind(KINDS["messages"], cutoff)
        seconds = time.perf_counter() - began
        db.dispose()
        assert result.purged == purge, f"purged {result.purged}, expected {purge}"
        return {
            "engine": engine,
            "stored": size,
            "backlog": backlog,
            "purged": result.purged,
            "seed_seconds": round(seeded, 1),
            "seconds": round(seconds, 2),
            "seconds_per_1000": round(seconds / purge * 1000, 4),
            "longest_write_ms": round(result.longest_write_ms, 1),
            "purge_ms_per_1000": round(result.purge_ms / purge * 1000, 1),
            "archive_bytes": result.archive_bytes,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--purge", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--backlog", type=int, default=0, help="also seed this many pending messages (newest)")
    args = parser.parse_args()
    rows = [run_size(args.engine, size, args.purge, args.batch, args.backlog) for size in sorted(args.sizes)]
    base = rows[0]
    for row in rows:
        row["per_purged_ratio"] = round(row["seconds_per_1000"] / base["seconds_per_1000"], 2)
        row["longest_write_ratio"] = round(row["longest_write_ms"] / max(base["longest_write_ms"], 0.001), 2)
        row["purge_ratio"] = round(row["purge_ms_per_1000"] / max(base["purge_ms_per_1000"], 0.001), 2)
        print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
