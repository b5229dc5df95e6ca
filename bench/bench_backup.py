"""Backup and restore of a store of N messages, and the ingest pause while a backup runs.

    .venv/bin/python bench/bench_backup.py --messages 1000000 --engine sqlite

Seeds N delivered messages (bench/seed_store.py), starts `opendip up` with a
webhook receiver, sends one message per request back to back from one client
(so every stall shows as one slow answer), and takes `opendip backup now` in
the middle. The pause is read from the answers: latency and the longest gap
between answers during the backup, against the baseline measured just before
in the same run. Then `backup restore` and `backup drill` are timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from bench.common import PG_DSN, REGS, MessageFactory, database, free_port, spawn, wait_http
from bench.common import stop as stop_process
from bench.harness import receiver, register_cast
from bench.seed_store import seed_postgres, seed_sqlite

from opendip.messages.client import Credentials, DipClient
from opendip.ops.backup_engines import libpq_url, sqlite_file

OPENDIP = str(Path(sys.executable).parent / "opendip")


@dataclass
class Answers:
    """(sent at, seconds to answer, HTTP status) for every request of the paced sender."""

    samples: list[tuple[float, float, int]] = field(default_factory=list)

    def between(self, start: float, end: float) -> list[tuple[float, float, int]]:
        return [s for s in self.samples if start <= s[0] < end]


def keep_sending(base: str, credentials: Path, answers: Answers, stop: threading.Event) -> None:
    factory = MessageFactory()
    with DipClient(base, Credentials.load(credentials)) as client:
        while not stop.is_set():
            sent = time.time()
            response = client.request("POST", "/dip-channel/IF-043", factory.body(1))
            answers.samples.append((sent, time.time() - sent, response.status_code))


def summary(samples: list[tuple[float, float, int]], seconds: float) -> dict[str, float]:
    latencies = sorted(s[1] for s in samples)
    ends = sorted(s[0] + s[1] for s in samples)
    gaps = [b - a for a, b in itertools.pairwise(ends)]
    return {
        "requests": len(samples),
        "per_s": round(len(samples) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "longest_gap_ms": round(max(gaps, default=0) * 1000, 1),
        "non_201": sum(1 for s in samples if s[2] != 201),
    }


def opendip(env: dict[str, str], *args: str) -> tuple[dict[str, object], float]:
    began = time.time()
    done = subprocess.run([OPENDIP, *args], env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"opendip {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout), time.time() - began


@contextmanager
def hub(data_dir: Path, url: str, logs: Path) -> Iterator[str]:
    """`opendip up` on a big store: start-up (migrations, first claims) may take longer than the bench's 40 s."""
    port = free_port()
    env = {"OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": url}
    log = logs / f"hub-{port}.log"
    process = spawn([OPENDIP, "up", "--port", str(port)], log, env)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", process, log, timeout=300)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


@contextmanager
def seeded_store(engine: str, count: int, work: Path, logs: Path) -> Iterator[tuple[str, Path, Path, float]]:
    """A fresh store of `count` delivered messages: url, hub data dir, sender credentials, seed seconds."""
    data_dir = work / f"data-{engine}"
    with database(engine, work, "backup") as url, receiver(logs) as webhook:
        credentials = register_cast(data_dir, url, webhook)
        start = time.time() - 30 * 86400
        if engine == "sqlite":
            seeded = seed_sqlite(str(sqlite_file(url)), 0, count, start, 2.5)
        else:
            seeded = seed_postgres(libpq_url(url), 0, count, start, 2.5)
        yield url, data_dir, credentials, seeded


@contextmanager
def kept_store(url: str, data_dir: Path) -> Iterator[tuple[str, Path, Path, float]]:
    """A store seeded earlier (bench/bench_scale.py --seed-only keeps its hub dir beside it), used as it is.

    Its participants have no webhooks, so every message sent during the run stays undelivered: back-pressure
    is turned off for the hub, or it would soon answer 503 to the sender and hide any pause."""
    os.environ["OPENDIP_BACKPRESSURE_MAX_PENDING"] = "0"
    yield url, data_dir, data_dir / "participants" / f"{REGS}.json", 0.0


def run(
    engine: str,
    count: int,
    work: Path,
    baseline_seconds: float,
    kept: tuple[str, Path] | None = None,
    backup_only: bool = False,
) -> dict[str, object]:
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    store = kept_store(*kept) if kept else seeded_store(engine, count, work, logs)
    with store as (url, data_dir, credentials, seeded):
        env = {"OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": url}
        answers, stop = Answers(), threading.Event()
        with hub(data_dir, url, logs) as base:
            sender = threading.Thread(target=keep_sending, args=(base, credentials, answers, stop))
            sender.start()
            time.sleep(2 + baseline_seconds)  # 2 s warm-up, then the baseline window
            backup_started = time.time()
            taken, backup_seconds = opendip(env, "backup", "now")
            backup_ended = time.time()
            time.sleep(3)
            stop.set()
            sender.join(30)
        baseline = summary(answers.between(backup_started - baseline_seconds, backup_started), baseline_seconds)
        during = summary(answers.between(backup_started, backup_ended), backup_ended - backup_started)
        target_dir = work / f"restored-{engine}"
        if backup_only:
            restored, restore_seconds, drill, drill_seconds = {"counts": None}, 0.0, {"ok": None}, 0.0
        elif engine == "sqlite":
            restored, restore_seconds = opendip(
                env, "backup", "restore", str(taken["file"]), "--data-dir", str(target_dir)
            )
        else:
            name = f"bench_restore_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                args = ("--data-dir", str(target_dir), "--database-url", f"postgresql://postgres@127.0.0.1:5432/{name}")
                restored, restore_seconds = opendip(env, "backup", "restore", str(taken["file"]), *args)
            finally:
                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not backup_only:
            drill, drill_seconds = opendip(env, "backup", "drill", str(taken["file"]))
    return {
        "engine": engine,
        "messages": taken["messages"],
        "seed_seconds": round(seeded, 1),
        "backup_seconds": round(backup_seconds, 1),
        "backup_bytes": Path(str(taken["file"])).stat().st_size if Path(str(taken["file"])).exists() else None,
        "restore_seconds": round(restore_seconds, 1),
        "restored_counts": restored["counts"],
        "drill_seconds": round(drill_seconds, 1),
        "drill_ok": drill["ok"],
        "ingest_baseline": baseline,
        "ingest_during_backup": during,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument(
        "--url",
        default=None,
        help="back up this kept store instead of seeding one (e.g. a bench_scale.py store); needs --data-dir",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="the kept store's hub data dir")
    parser.add_argument("--backup-only", action="store_true", help="the backup and the ingest pause; no restore")
    args = parser.parse_args()
    if bool(args.url) != bool(args.data_dir):
        parser.error("--url and --data-dir go together")
    kept = (args.url, args.data_dir) if args.url else None
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if kept:
        engines = ["sqlite" if args.url.startswith("sqlite") else "postgresql"]
    with tempfile.TemporaryDirectory(prefix="opendip-bench-backup-", dir=args.work) as work:
        for engine in engines:
            print(
                json.dumps(run(engine, args.messages, Path(work), args.baseline_seconds, kept, args.backup_only)),
                flush=True,
            )


if __name__ == "__main__":
    main()
