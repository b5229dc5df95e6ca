"""Retention purge on the kept scale stores: the oldest day of messages, then its journal day, at 1M and 10M.

    nice -n 19 .venv/bin/python bench/bench_purge_scale.py --dsn postgresql://postgres@127.0.0.1:5432/DB \\
        --schemas scale_1000000 scale_10000000

The stores are bench/bench_scale.py's (`--seed-only` keeps them): a steady 100,000 messages a day, so every
store's oldest whole day holds the same 100,000 messages and a bigger store only has more days after it.
Each run takes the store's partial oldest day and its first whole day (about 100,000 messages, 150,000
deliveries and 350,000 journal entries; the partial day's share depends on the hour the store was seeded):
first the messages kind (archived, then deleted `--batch` messages a transaction, by id range), then the
journal kind (PostgreSQL: the two day partitions archived, detached and dropped). Reported per store: the
purge's own time per 1,000 (the delete or drop transactions), the longest such transaction, the whole run
with archiving, and the ratio of each against the first store of the same run. **Destructive**: the purged
day is gone from the store afterwards (the archives are written under --archive and deleted at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from opendip.config import Settings
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.models import messages
from opendip.ops.retention import RetentionService
from opendip.ops.retention_kinds import KINDS


def purge_store(dsn: str, schema: str, archive: Path, batch: int) -> dict[str, Any]:
    url = f"{dsn.replace('postgresql://', 'postgresql+psycopg://', 1)}?options=-csearch_path%3D{schema}"
    db = Database.from_url(url)
    try:
        with db.engine.connect() as conn:
            oldest, stored = conn.execute(select(func.min(messages.c.received_at), func.count())).one()
        cutoff = float((journal_days.day_of(float(oldest)) + 2) * journal_days.DAY)  # partial day + one whole
        now = time.time()
        settings = Settings(data_dir=archive / schema, database_url=url, retention_batch=batch)
        service = RetentionService(settings, db, clock=lambda: now)
        row: dict[str, Any] = {"schema": schema, "stored_messages": stored, "load_before": os.getloadavg()[0]}
        for name in ("messages", "journal"):
            began = time.perf_counter()
            result = service.run_kind(KINDS[name], cutoff)
            seconds = time.perf_counter() - began
            row[name] = {
                "purged": result.purged,
                "held": result.held,
                "dropped": result.dropped,
                "seconds": round(seconds, 1),
                "purge_ms": round(result.purge_ms, 1),
                "purge_ms_per_1000": round(result.purge_ms / max(result.purged, 1) * 1000, 2),
                "longest_write_ms": round(result.longest_write_ms, 1),
                "archive_bytes": result.archive_bytes,
            }
            print(f"  {schema} {name}: {json.dumps(row[name])}", flush=True)
        row["load_after"] = os.getloadavg()[0]
        return row
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="the PostgreSQL database holding the scale schemas")
    parser.add_argument("--schemas", nargs="+", required=True, help="smallest first: the ratios are against it")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--archive", type=Path, required=True, help="scratch directory for the archives")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = [purge_store(args.dsn, schema, args.archive, args.batch) for schema in args.schemas]
    base = rows[0]
    for row in rows:
        for name in ("messages", "journal"):
            for key in ("purge_ms_per_1000", "longest_write_ms", "seconds"):
                row[name][f"{key}_ratio"] = round(row[name][key] / max(base[name][key], 0.001), 2)
        print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))
    shutil.rmtree(args.archive, ignore_errors=True)


if __name__ == "__main__":
    main()
