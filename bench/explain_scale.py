"""Why an operation of bench/bench_scale.py costs what it costs: the plan of every statement it issues.

    .venv/bin/python bench/explain_scale.py URL --only "portal: messages, sender" [--top 3]

Runs each chosen operation once against a seeded store (PostgreSQL), records
the statements it sends, then runs EXPLAIN (ANALYZE, BUFFERS) on each and
prints the slowest ones with their plans: the tool for finding a scan that
grows with the store. Read-only statements only (a claim's UPDATEs are not
explained).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import portal_operations
from scale_operations import outbox_operations, tracking_operations
from sqlalchemy import create_engine, event, select


def anchor_of(url: str) -> float:
    from opendip.db.models import messages

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(messages.c.received_at).where(messages.c.sender_unique_reference == "SEED-0")
            ).scalar()
    finally:
        engine.dispose()
    return float(found) if found is not None else time.time()


def captured(operation: Any) -> list[tuple[str, Any]]:
    """The SELECT statements (with their parameters) one run of `operation` sends."""
    from sqlalchemy.engine import Engine

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        operation()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return seen


def explain(url: str, statement: str, parameters: Any) -> tuple[float, str]:
    engine = create_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [str(row[0]) for row in cursor.fetchall()]
        finally:
            raw.close()
    finally:
        engine.dispose()
    total = next((float(x.split(":")[1].split()[0]) for x in lines if x.startswith("Execution Time")), 0.0)
    return total, "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="postgresql+psycopg://...?options=-csearch_path%%3Dscale_1000000")
    parser.add_argument(
        "--only", default="portal:", help="operation name prefixes, separated by commas, or by | when a name has one"
    )
    parser.add_argument("--top", type=int, default=2, help="plans printed per operation, slowest first")
    args = parser.parse_args()
    anchor = anchor_of(args.url)
    operations = {
        **outbox_operations(args.url, anchor),
        **tracking_operations(args.url),
        **portal_operations(args.url, anchor),
    }
    prefixes = tuple(p for p in args.only.split("|" if "|" in args.only else ",") if p)
    for name, operation in operations.items():
        if not name.startswith(prefixes) or name.startswith("worker:"):
            continue
        plans = sorted((explain(args.url, s, p) for s, p in captured(operation)), reverse=True)
        print(f"=== {name}: {len(plans)} statements, {sum(ms for ms, _ in plans):.1f} ms in all", flush=True)
        for ms, plan in plans[: args.top]:
            print(f"--- {ms:.1f} ms\n{plan}\n", flush=True)


if __name__ == "__main__":
    main()
