"""`make bench`: the core hub against its ceiling, on SQLite and PostgreSQL, written to bench/RESULTS.md.

Per database: (a) the ceiling (bench/ceiling.py) and (b) `opendip up --role api`
at saturation with batches of 1 and 50, then (b) paced at 100 msg/s; then
(c) `opendip up` (API + delivery workers) delivering to bench/receiver.py:
paced at 100 msg/s, paced at 1,000 msg/s in batches of 50, and at saturation.
Before all that, the load generator's own ceiling against a null server.
Every server and client is a separate process on 127.0.0.1; all durations are
bounded and the whole run stops itself (--time-limit).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sqlite3
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import FrameType

from common import BENCH_DIR, PG_DSN, database, postgres_available
from endtoend import EndToEnd, run_end_to_end
from harness import Endpoint, LoadResult, LoadSpec, Timing, ceiling, hub, receiver, register_cast, run_load, worker
from report import DbRun, Run, describe, flags, keep_foreign_sections, ms, render

SATURATION = 16  # requests in flight, over all client processes
# (b) has no delivery worker, so nothing it accepts is ever delivered: back-pressure would refuse its sends
# after 15 s of backlog. It measures the send path's cost; (c) runs with back-pressure on, as shipped.
API_ONLY = {"OPENDIP_BACKPRESSURE_MAX_PENDING": "0"}


def specs_for(prefix: str, batch: int) -> LoadSpec:
    # Batch 1 needs two client processes and pre-signed requests to keep ahead of the servers.
    if batch == 1:
        return LoadSpec(f"{prefix}1", 1, SATURATION, processes=2, presign=True)
    return LoadSpec(f"{prefix}{batch}", batch, SATURATION)


def show(label: str, result: LoadResult | EndToEnd) -> None:
    load = result.load if isinstance(result, EndToEnd) else result
    if isinstance(result, EndToEnd):
        text = (
            f"accepted {load.messages_per_s:,.0f} msg/s, delivered {result.delivered_per_s:,.0f} msg/s "
            f"(all recipients {result.deliveries_per_s:,.0f}/s), accepted->delivered p50/p90/p99 "
            f"{ms(result.p(0.5))}/{ms(result.p(0.9))}/{ms(result.p(0.99))} ms, "
            f"drain {result.drain_seconds:.1f} s, undelivered {result.undelivered}"
            + ("" if result.drain_per_s is None else f" (drain {result.drain_per_s:,.0f} msg/s)")
        )
    else:
        text = f"{load.messages_per_s:,.0f} msg/s ({load.requests_per_s:,.0f} req/s)"
    text += f", L3 p50/p90/p99 {ms(load.p(0.5))}/{ms(load.p(0.9))}/{ms(load.p(0.99))} ms, client CPU "
    text += "/".join(f"{c:.2f}" for c in load.client_cpu) + f" {flags(load)}"
    print(f"  {label:<8} batch {load.spec.batch:>2}, {describe(load)}: {text}", flush=True)


def bench_client(work: Path, timing: Timing, run: Run) -> None:
    print("client ceiling (null server)", flush=True)
    credentials = register_cast(work / "client", f"sqlite:///{work / 'client.db'}", None)
    with ceiling(None, work / "logs") as null:
        for key, batch in (("null1", 1), ("null50", 50)):
            run.client[key] = run_load(null, credentials, specs_for("null", batch), timing)
            show(key, run.client[key])


def bench_database(kind: str, work: Path, timing: Timing, drain: float, db: DbRun) -> None:
    logs = work / "logs"
    print(f"{kind}: (a) ceiling and (b) send API", flush=True)
    with database(kind, work, "ceiling") as ceiling_url, database(kind, work, "api") as api_url:
        credentials = register_cast(work / kind / "api", api_url, None)
        with ceiling(ceiling_url, logs) as a, hub(work / kind / "api", api_url, "api", logs, API_ONLY) as b:
            for batch in (1, 50):
                for prefix, base in (("a", a), ("b", b)):
                    key = f"{prefix}{batch}"
                    db.loads[key] = run_load(base, credentials, specs_for(prefix, batch), timing)
                    show(key, db.loads[key])
            db.loads["b_paced"] = run_load(b, credentials, LoadSpec("b_paced", 1, rate=100), timing)
            show("b_paced", db.loads["b_paced"])
    print(f"{kind}: (c) end to end", flush=True)
    with database(kind, work, "e2e") as e2e_url, receiver(logs) as rx:
        credentials = register_cast(work / kind / "e2e", e2e_url, rx)
        with hub(work / kind / "e2e", e2e_url, "all", logs) as c:
            for spec in (
                LoadSpec("c_paced", 1, rate=100),
                LoadSpec("c_1000", 50, rate=20),
                LoadSpec("c_sat", 50, SATURATION),
            ):
                db.e2e[spec.name] = run_end_to_end(c, rx, credentials, spec, timing, work, drain)
                show(spec.name, db.e2e[spec.name])
    if kind != "postgresql":
        return
    print(f"{kind}: (c) end to end, API and delivery worker as two processes", flush=True)
    with database(kind, work, "split") as split_url, receiver(logs) as rx:
        data_dir = work / kind / "split"
        credentials = register_cast(data_dir, split_url, rx)
        with hub(data_dir, split_url, "api", logs) as api, worker(data_dir, split_url, logs) as pid:
            spec = LoadSpec("c_split", 50, SATURATION)
            both = Endpoint(api.base, (*api.pids, pid))
            db.e2e[spec.name] = run_end_to_end(both, rx, credentials, spec, timing, work, drain)
            show(spec.name, db.e2e[spec.name])


def database_version(kind: str) -> str:
    if kind == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(PG_DSN) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def machine() -> list[str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    libs = ", ".join(
        f"{n} {version(n)}"
        for n in ("uvicorn", "uvloop", "httptools", "fastapi", "sqlalchemy", "psycopg", "aiohttp", "orjson")
    )
    return [
        f"nproc {os.cpu_count()} ({model}), {platform.system()} {platform.release()}",
        f"Python {platform.python_version()} ({sys.executable})",
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        libs,
    ]


STATIC_NOTES = [
    "Every request is freshly signed (RSA PKCS#1 v1.5, ~280 us) in the load generator processes, "
    "for (a) too, so client cost is equal. For batch-1 saturation the two client processes sign "
    "their requests in the 5 s before the window (signature dates stay well within the hub's 300 s "
    "skew) so that signing does not compete with the servers for the cores; requests beyond that "
    "pool are signed live.",
    "Server, clients, receiver and PostgreSQL share the same cores: the 'client ceiling' rows (a null "
    "ASGI server answering 201 at once) bound what the client side can show; a row near it is "
    "client-bound.",
    "L3 latency histograms have 1 % wide buckets; percentiles are bucket upper edges. Saturation "
    "latency is mostly queueing at 16 in flight (Little's law), not service time.",
    "(a) stores payload + sender/reference/mpan (indexed) in one executemany transaction through the "
    "hub's own opendip.db.engine.Database as build_hub opens it (WAL, synchronous=NORMAL, BEGIN "
    "IMMEDIATE, the writer gate and background checkpoints on SQLite; the psycopg 3 pool on "
    "PostgreSQL) on anyio's thread pool. (b) also verifies signature and "
    "certificate, validates against the catalogue, authorises, addresses, checks duplicates and "
    "writes message + journal + outbox rows.",
    "(c): IF-043 goes to SUP (primary) and LDSO (distributor route), so each accepted message is two "
    "deliveries; 'delivered msg/s' counts unique transactions reaching SUP during the window, "
    "'deliveries/s' both recipients. Accepted->delivered = receiver arrival time minus the time the "
    "client read the 201 (same clock); a delivery can beat the client's read of its 201, so p50 can "
    "be near 0.",
    "(c) at saturation lets ingest outrun delivery, so its latency is backlog; the paced 1,000 msg/s "
    "run is the evidence for the sustained target (met = >= 95 % delivered within the window, "
    "nothing left over, drain < 2 s).",
    "CPU columns come from /proc over the measured window: 'server CPU' is the ceiling's or the hub's "
    "process (all threads; PostgreSQL's own backends are not included), 'us/msg' its CPU per accepted "
    "message, 'CPU/msg (a)/(b)' the hub's CPU efficiency relative to the ceiling (less sensitive to "
    "neighbours than throughput), 'PostgreSQL CPU' every postgres process on the machine (our queries "
    "and anyone else's), 'other CPU' the rest of the machine's busy cores (the receiver in (c), and "
    "neighbours: other sessions' tests). Absolute targets missed while neighbours used > 0.5 cores "
    "are marked inconclusive.",
    "Hub settings are the defaults of opendip.config.Settings (delivery batches of 50, 2 concurrent "
    "POSTs per recipient), with only OPENDIP_DATA_DIR and OPENDIP_DATABASE_URL set; (b), an API "
    "process with no delivery worker, also has back-pressure off (OPENDIP_BACKPRESSURE_MAX_PENDING=0), "
    "or its undelivered backlog would refuse the later sends.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each")
    parser.add_argument("--drain", type=float, default=60.0, help="max seconds to wait for deliveries")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--time-limit", type=int, default=540, help="abort the whole run after this")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    args = parser.parse_args()

    def out_of_time(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError(f"the benchmark passed its {args.time_limit} s limit")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.time_limit)
    began = time.time()
    timing = Timing(args.duration, args.warmup)
    run = Run(
        started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(),
        settings=[
            f"{args.warmup:g} s warm-up + {args.duration:g} s measured per scenario; saturation = "
            f"{SATURATION} requests in flight (batch 1: 2 client processes x 8; batch 50: 1 x 16); "
            "aiohttp client on uvloop, keep-alive",
        ],
        notes=list(STATIC_NOTES),
    )
    with tempfile.TemporaryDirectory(prefix="opendip-bench-") as tmp:
        work = Path(tmp)
        (work / "logs").mkdir()
        try:
            bench_client(work, Timing(args.duration / 2, 1.0), run)
            for kind in args.databases.split(","):
                if kind == "postgresql" and not postgres_available():
                    message = f"PostgreSQL at {PG_DSN} did not answer: PostgreSQL scenarios SKIPPED"
                    print(f"!!! {message}", file=sys.stderr, flush=True)
                    run.skipped.append(message)
                    continue
                db = DbRun(kind, database_version(kind))
                run.databases.append(db)
                run.machine.append(db.version)
                try:
                    bench_database(kind, work, timing, args.drain, db)
                except TimeoutError:
                    raise
                except Exception as exc:
                    lines = str(exc).strip().splitlines() or [type(exc).__name__]
                    tail = " ... " + " ".join(x.strip() for x in lines[-2:]) if len(lines) > 2 else ""
                    run.skipped.append(f"{kind}: stopped by an error: {lines[0][:300]}{tail}")
                    traceback.print_exc()
        except TimeoutError as exc:
            run.skipped.append(str(exc))
            traceback.print_exc()
        finally:
            signal.alarm(0)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            run.notes.append(f"Load average at the end: {load}; the run took {time.time() - began:.0f} s.")
            text = render(run)
            if args.output.exists():
                text = keep_foreign_sections(text, args.output.read_text())
            args.output.write_text(text)
            print("\n" + text)
            print(f"written to {args.output}")


if __name__ == "__main__":
    main()
