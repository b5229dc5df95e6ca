"""Cost against store size: the same operations at 0.1M, 1M and 10M stored messages (issue 17, part 3).

    .venv/bin/python bench/bench_scale.py --store sqlite --sizes 100000,1000000,10000000

One store per engine grows in place (bench/seed_scale.py: a steady 100,000
messages a day, so the last 24 hours hold the same traffic at every size and
a bigger store is a longer history). At each size the operations below run
through the hub's own code against that store, each repeated and reported as
the median milliseconds; SCALE.md divides every figure by the 0.1M figure of
the same run (flat = ratio near 1).

- ingest: one signed batch of 50 IF-043 through `create_app` (API role) in
  this process (Starlette's test client), the whole send path to the 201;
- claim: the worker's due-groups query and a claim of 50 per group (then released);
- replay and requeue selection: the first page of a replay of one hour for a
  recipient, and the count a requeue of a day's failures answers with;
- tracking: the record the tracking API answers with (deliveryStatus, `/journal`) by
  transaction ID, sender reference, MPAN and correlation ID, as the sender or a recipient;
- portal: dashboard (counts and charts, 24 h and 1 h windows), message
  search (no filter, five MPANs, sender + failed state, recipient + pending,
  recipient + failed, outcome = failure, a 10-second window, a participant's
  own view and its failures), one message page, the first batch of a CSV export.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from common import PG_DSN, REGS
from harness import register_cast
from scale_operations import ingest_operation, outbox_operations, tracking_operations
from seed_scale import DAY_MESSAGES, RECIPIENTS, SENDERS, STEP, add_participants, count_hours, seed_sqlite
from seed_scale_pg import seed_postgres

RESULTS = Path(__file__).resolve().parent / "scale-results.json"


def timed(operation: Callable[[], Any], repeat: int) -> float:
    """Median wall milliseconds over `repeat` runs after one unmeasured run."""
    operation()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        operation()
        samples.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(samples), 2)


def portal_operations(url: str, anchor: float) -> dict[str, Callable[[], Any]]:
    from opendip.accounts.roles import Role
    from opendip.catalogue.loader import load_catalogue
    from opendip.db.engine import Database
    from opendip.portal.access import Viewer
    from opendip.portal.dashboard_charts import dashboard_charts
    from opendip.portal.filters import message_filter, window
    from opendip.portal.overview import Overview
    from opendip.portal.service import PortalService

    db = Database.from_url(url)
    service = PortalService(db)
    overview = Overview(db, load_catalogue(), None, lambda: anchor, live_limit=2000, snapshot_seconds=3600)
    admin = Viewer("bench", Role.OPERATOR, None)
    # a participant organisation's user: sees the traffic of its own DIP ID only
    participant = Viewer("bench", Role.MESSAGE_ADMIN, "bench-org", frozenset({SENDERS[0]}))
    assert participant.scope == frozenset({SENDERS[0]})
    receiving = Viewer("bench", Role.MESSAGE_ADMIN, "bench-recipient", frozenset({RECIPIENTS[3]}))  # a tenth of all
    newest = int(anchor) - 3600
    mpans = [str(2000000000000 + (n * 7919) % 5000000) for n in (5, 50_000, 70_000, 90_000, 99_000)]

    def search(viewer: Viewer, **params: str) -> Callable[[], Any]:
        flt, page = message_filter({k: [v] for k, v in params.items()})
        return lambda: service.messages(viewer, flt, page)

    def dashboard(preset: str) -> Callable[[], Any]:
        """Counting the page (what a live view or a background recount costs)."""
        win = window({"window": [preset]}, anchor)
        return lambda: (overview.dashboard(admin, win), dashboard_charts(db, admin, win))

    def from_rows(count: Callable[[], Any]) -> Callable[[], Any]:
        """Counting a page as before the hourly counts (migration 0021): every number from the rows."""
        from opendip.portal import aggregates

        def run() -> Any:
            kept = aggregates.hourly
            aggregates.hourly = lambda *_: None  # type: ignore[assignment]
            try:
                return count()
            finally:
                aggregates.hourly = kept

        return run

    def served(preset: str) -> Callable[[], Any]:
        """The page as a view gets it: live below the limit, otherwise the snapshot (counted once, unmeasured)."""
        win = window({"window": [preset]}, anchor)
        return lambda: overview.dashboard_view(admin, win)

    def export_first_page() -> None:
        flt, _ = message_filter({"sender": [SENDERS[1]]}, paged=False)
        lines = service.export(admin, flt)
        next(lines)
        next(lines)

    first = service.messages(admin, *message_filter({}))
    transaction = first.rows[5].row["transaction_id"]
    ten_seconds = {"from": _iso(newest), "to": _iso(newest + 9)}
    return {
        "portal: dashboard 24 h, as served": served("24h"),
        "portal: dashboard 1 h, as served": served("1h"),
        "portal: participants page, as served": lambda: overview.participants_view(admin),
        "portal: dashboard 24 h, counting (snapshot recount)": dashboard("24h"),
        "portal: dashboard 1 h, counting": dashboard("1h"),
        "portal: participants page, counting": lambda: overview.participants(admin),
        **(
            {
                "portal: dashboard 24 h, counting from the rows (before 0021)": from_rows(dashboard("24h")),
                "portal: participants page, counting from the rows (before 0021)": from_rows(
                    lambda: overview.participants(admin)
                ),
            }
            if hour_counts_kept()
            else {}
        ),
        "portal: messages, no filter": search(admin),
        "portal: messages, 5 MPANs": search(admin, mpan=",".join(mpans)),
        "portal: messages, sender + failed": search(admin, sender=SENDERS[2], state="failed"),
        "portal: messages, recipient + pending": search(admin, recipient=RECIPIENTS[3], state="pending"),
        "portal: messages, recipient + failed": search(admin, recipient=RECIPIENTS[3], state="failed"),
        "portal: messages, outcome = failure": search(admin, outcome="failure"),
        "portal: messages, 10 s window": search(admin, **ten_seconds),
        "portal: messages, participant's own view": search(participant),
        "portal: messages, participant + failed": search(participant, state="failed"),
        "portal: messages, a recipient participant's own view": search(receiving),
        "portal: messages, recipient participant + pending": search(receiving, state="pending"),
        "portal: message page": lambda: service.message(admin, transaction),
        "portal: CSV export, first 1,000 rows": export_first_page,
    }


def hour_counts_kept() -> bool:
    """Whether the tree measured keeps the dashboard's hourly counts (a baseline before migration 0021 does not)."""
    from opendip.portal import aggregates

    return hasattr(aggregates, "hourly")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def measure(
    url: str, data_dir: Path, credentials: Path, anchor: float, repeat: int, only: tuple[str, ...] = ()
) -> dict[str, float]:
    """Median ms per operation; `only` keeps the operations whose name starts with one of its prefixes."""
    found: dict[str, float] = {}

    def wanted(name: str) -> bool:
        return not only or name.startswith(only)

    ingest = "ingest: batch of 50 (send API, in process)"
    if wanted(ingest):
        send, close = ingest_operation(url, data_dir, credentials)
        try:
            found[ingest] = timed(send, repeat)
        finally:
            close()
    operations = {**outbox_operations(url, anchor), **tracking_operations(url)}
    if not only or any(prefix.startswith("portal") or "portal".startswith(prefix) for prefix in only):
        operations.update(portal_operations(url, anchor))
    for name, operation in operations.items():
        if not wanted(name):
            continue
        found[name] = timed(operation, repeat)
        print(f"    {name}: {found[name]} ms", flush=True)
    return found


def store_url(store: str, size: int, directory: Path, schema: str = "scale", dsn: str = PG_DSN) -> str:
    if store == "sqlite":
        return f"sqlite:///{directory / f'scale-{size}.db'}"
    return f"{dsn.replace('postgresql:', 'postgresql+psycopg:')}?options=-csearch_path%3D{schema}_{size}"


def prepare(
    store: str,
    size: int,
    directory: Path,
    anchor: float,
    schema: str = "scale",
    dsn: str = PG_DSN,
    nice: int = 0,
    jobs: int = 1,
) -> tuple[str, Path, float, float | None]:
    """The store of `size` messages (seeded now, or kept from an earlier run): url, hub dir, anchor, seed seconds."""
    from sqlalchemy import select

    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade
    from opendip.db.models import messages

    url = store_url(store, size, directory, schema, dsn)
    data_dir = directory / f"hub-{store}-{size}"
    if store == "postgresql":
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}_{size}")
    db = Database.from_url(url)
    try:
        upgrade(db.engine)  # a kept store gets the migrations added since it was seeded
        with db.engine.connect() as conn:
            kept = conn.execute(
                select(messages.c.received_at).where(messages.c.sender_unique_reference == "SEED-0")
            ).scalar()
    finally:
        db.dispose()
    if kept is not None:
        return url, data_dir, float(kept), None
    register_cast(data_dir, url, None)
    add_participants(url)
    if store == "sqlite":
        seconds = seed_sqlite(url.split("///", 1)[1], 0, size, anchor)
    else:
        seconds = seed_postgres(
            url.replace("+psycopg", ""),
            0,
            size,
            anchor,
            nice=nice,
            stop=(directory / "STOP-SEED").exists,
            jobs=jobs,
        )
    count_hours(url)
    return url, data_dir, anchor, seconds


def report(results: dict[str, Any]) -> str:
    """Markdown: operation x size x store, median ms and the ratio to the smallest size of the same run."""
    lines = []
    for store, run in results.items():
        sizes = sorted(run["sizes"], key=int)
        if not sizes:
            continue
        base = run["sizes"][sizes[0]]["ms"]
        head = " | ".join(f"{int(s) / 1e6:g}M ms | ratio" for s in sizes)
        lines += [f"\n### {store} (run {run['started']})\n", f"| operation | {head} |"]
        lines.append("|---" * (1 + 2 * len(sizes)) + "|")
        for name in base:
            cells = []
            for size in sizes:
                ms = run["sizes"][size]["ms"].get(name)
                ratio = "" if ms is None or not base[name] else f"{ms / base[name]:.2f}"
                cells.append(f"{'' if ms is None else f'{ms:,.1f}'} | {ratio}")
            lines.append(f"| {name} | {' | '.join(cells)} |")
        loads = ", ".join(f"{int(s) / 1e6:g}M: {run['sizes'][s]['load_before'][0]}" for s in sizes)
        lines.append(f"\nLoad average (1 min) before measuring: {loads}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--dir",
        type=Path,
        required=True,
        help="where SQLite files and hub data dirs are kept; a file STOP-SEED there ends a PostgreSQL seed early",
    )
    parser.add_argument("--seed-only", action="store_true", help="prepare the stores, measure nothing")
    parser.add_argument(
        "--only",
        default="",
        help="operation name prefixes to measure, separated by commas, or by | when a name has one ('worker:,replay:')",
    )
    parser.add_argument(
        "--schema", default="scale", help="PostgreSQL schema prefix (<prefix>_<size>), so benches do not share stores"
    )
    parser.add_argument(
        "--dsn",
        default=PG_DSN,
        help="PostgreSQL database holding the scale schemas (a 10M store belongs in its own database, not 'test')",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="renice the PostgreSQL backend that seeds to this value (needs root and a local server)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="PostgreSQL sessions seeding side by side (chunks, then index builds)"
    )
    parser.add_argument("--report", action="store_true", help="print the recorded results as Markdown tables")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(RESULTS.read_text())))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    anchor = float(int(time.time()))
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    run: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"{args.store}: preparing {size:,} messages", flush=True)
        url, data_dir, at, seconds = prepare(
            args.store, size, args.dir, anchor, args.schema, args.dsn, args.nice, args.jobs
        )
        print(f"{args.store}: {size:,} ready (seeded in {seconds or 0:.0f} s)", flush=True)
        if args.seed_only:
            continue
        load = os.getloadavg()
        only = tuple(p for p in args.only.split("|" if "|" in args.only else ",") if p)
        figures = measure(url, data_dir, data_dir / "participants" / f"{REGS}.json", at, args.repeat, only)
        run["sizes"][str(size)] = {
            "seed_seconds": None if seconds is None else round(seconds, 1),
            "load_before": [round(x, 2) for x in load],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "ms": figures,
        }
        results[args.store] = run
        RESULTS.write_text(json.dumps(results, indent=1))
    print(json.dumps(run, indent=1))


assert DAY_MESSAGES * STEP == 86_400
if __name__ == "__main__":
    main()
