"""The PostgreSQL side of bench/seed_scale.py: chunks written and indexes built in parallel sessions.

A seed drops the three tables' secondary indexes, writes the rows chunk by chunk (each chunk one
transaction of three INSERT ... SELECT, generated in the database), then builds the indexes again from
their stored definitions and VACUUM ANALYZEs. With `jobs` > 1 the chunks, then the index builds, are
shared among that many sessions (the biggest table's indexes first), which on two cores roughly halves a
10M seed. Every session can be reniced (a local server, run as root), so a long seed yields to the rest
of a shared machine. `finish_postgres` builds only the indexes a store lacks (a seed stopped between its
rows and its indexes): their definitions come from a throwaway schema migrated to head.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from seed_scale import CHUNK, STEP, TABLES, _pg_bind, statements


def _pg_secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX ...) of the three tables' indexes that back no constraint."""
    rows = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace "
        "WHERE s.nspname = current_schema() AND t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
        (list(TABLES),),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def renice_backend(conn: psycopg.Connection[Any], nice: int, log: Callable[[str], None] = print) -> None:
    """Lower the CPU priority of this connection's server process (a local server, run as root or its owner),
    so a long seed on a shared machine yields to everything else."""
    pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
        log(f"  postgresql: backend {pid} reniced to {nice}")
    except OSError as error:
        log(f"  postgresql: backend {pid} not reniced ({error})")


def _journal_days(dsn: str, oldest: float, newest: float) -> None:
    """The journal's day partitions for the seeded history (migration 0019), as the hub's loop would have made
    them day by day; without them every seeded row would sit in the default partition."""
    from sqlalchemy import create_engine

    from opendip.db import journal_days

    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            if journal_days.is_partitioned(conn):
                first = journal_days.day_of(oldest)
                journal_days.ensure_ahead(conn, first * journal_days.DAY, journal_days.day_of(newest) - first)
    finally:
        engine.dispose()


def _session(dsn: str, nice: int, log: Callable[[str], None]) -> psycopg.Connection[Any]:
    """A seeding session: reniced (a long seed on a shared machine yields to everything else), memory for
    index sorts, no waiting for the WAL flush at each commit."""
    conn = psycopg.connect(dsn, autocommit=True)
    if nice:
        renice_backend(conn, nice, log)
        conn.execute("SET max_parallel_maintenance_workers = 0")  # parallel workers would not be reniced
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET synchronous_commit = off")
    return conn


def in_sessions(
    dsn: str, jobs: int, nice: int, tasks: list[Callable[[psycopg.Connection[Any]], None]], log: Callable[[str], None]
) -> None:
    """Run `tasks` in `jobs` sessions of their own, each taking the next task as it finishes one (the list's
    order is the order they start: biggest first keeps the sessions busy to the end). The first error stops
    every session before its next task and is raised."""
    pending = list(reversed(tasks))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        with _session(dsn, nice, log) as conn:
            while True:
                with lock:
                    if errors or not pending:
                        return
                    task = pending.pop()
                try:
                    task(conn)
                except BaseException as error:  # handed to the caller
                    with lock:
                        errors.append(error)
                    return

    threads = [threading.Thread(target=work, name=f"seed-{i}") for i in range(max(1, min(jobs, len(tasks))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def build_indexes(
    dsn: str, definitions: list[str], jobs: int = 1, nice: int = 0, log: Callable[[str], None] = print
) -> None:
    """CREATE INDEX each definition across `jobs` sessions, the biggest table's first, then VACUUM ANALYZE the
    three tables (also in parallel). A partitioned table's index is defined ON ONLY it: built on every part."""
    began = time.time()
    order = {"journal": 0, "deliveries": 1, "messages": 2}  # biggest first: ~3.5, 1.5 and 1 rows per message

    def table(definition: str) -> int:
        return next((rank for name, rank in order.items() if re.search(rf"[ .]{name} USING ", definition)), 3)

    def create(definition: str) -> Callable[[psycopg.Connection[Any]], None]:
        def run(conn: psycopg.Connection[Any]) -> None:
            started = time.time()
            conn.execute(definition.replace(" ON ONLY ", " ON ").encode())
            name = definition.split(" INDEX ", 1)[1].split(" ON ", 1)[0]
            log(f"  postgresql: index {name} ({time.time() - started:.0f} s; {time.time() - began:.0f} s in all)")

        return run

    def vacuum(name: str) -> Callable[[psycopg.Connection[Any]], None]:
        def run(conn: psycopg.Connection[Any]) -> None:
            started = time.time()
            conn.execute(f"VACUUM ANALYZE {name}".encode())
            log(f"  postgresql: VACUUM ANALYZE {name} ({time.time() - started:.0f} s)")

        return run

    in_sessions(dsn, jobs, nice, [create(d) for d in sorted(definitions, key=table)], log)
    in_sessions(dsn, jobs, nice, [vacuum(name) for name in TABLES[::-1]], log)


def seed_postgres(
    dsn: str,
    first: int,
    last: int,
    anchor: float,
    log: Callable[[str], None] = print,
    nice: int = 0,
    stop: Callable[[], bool] | None = None,
    jobs: int = 1,
) -> float:
    """Add messages n in [first, last); returns the seconds it took (indexes rebuilt, ANALYZE done).

    Chunks are written by `jobs` sessions side by side (each chunk its own transaction), and the indexes
    built the same way. `stop()`, asked before each chunk, ends the seed early (the indexes are still
    rebuilt), so a seed that cannot finish in time leaves a consistent smaller store (every chunk begun is
    finished; with several jobs the store may then hold a few chunks past a gap)."""
    began = time.time()
    _journal_days(dsn, anchor - last * STEP, anchor)
    with psycopg.connect(dsn, autocommit=True) as conn:
        indexes = _pg_secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    sqls = statements(True)
    stopped: list[int] = []

    def chunk(start: int) -> Callable[[psycopg.Connection[Any]], None]:
        def run(conn: psycopg.Connection[Any]) -> None:
            if stopped or (stop is not None and stop()):
                if not stopped:
                    log(f"  postgresql: stopped at chunk {start:,} as asked; building the indexes")
                stopped.append(start)
                return
            params = {"first": start, "last": min(last, start + CHUNK), "anchor": anchor}
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")  # FK checks: the rows are built consistent
                for sql in sqls:
                    conn.execute(_pg_bind(sql, params).encode())
            log(f"  postgresql: messages {start:,}-{params['last']:,} ({time.time() - began:.0f} s)")

        return run

    in_sessions(dsn, jobs, nice, [chunk(start) for start in range(first, last, CHUNK)], log)
    log(f"  postgresql: rows in ({time.time() - began:.0f} s)")
    build_indexes(dsn, [definition for _, definition in indexes], jobs, nice, log)
    return time.time() - began


def reference_indexes(dsn: str, schema: str) -> list[str]:
    """The secondary indexes a store migrated to head has: migrated into a throwaway schema, read, dropped
    (for finishing a store whose seed stopped after dropping them)."""
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade

    reference = f"{schema}_indexes"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {reference} CASCADE".encode())
        conn.execute(f"CREATE SCHEMA {reference}".encode())
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    db = Database.from_url(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{reference}")
    try:
        upgrade(db.engine)
    finally:
        db.dispose()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SET search_path = {reference}".encode())
        found = [definition.replace(f" {reference}.", " ") for _, definition in _pg_secondary_indexes(conn)]
        conn.execute(f"DROP SCHEMA {reference} CASCADE".encode())
    return found


def finish_postgres(dsn: str, schema: str, jobs: int, nice: int, log: Callable[[str], None] = print) -> float:
    """Build the secondary indexes `schema` lacks (a seed stopped between its rows and its indexes), then
    VACUUM ANALYZE."""
    began = time.time()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SET search_path = {schema}".encode())
        have = {name for name, _ in _pg_secondary_indexes(conn)}
    missing = [d for d in reference_indexes(dsn, schema) if d.split(" INDEX ", 1)[1].split(" ON ", 1)[0] not in have]
    log(f"  postgresql: {len(missing)} indexes to build in {schema}")
    schema_dsn = f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{schema}"
    build_indexes(schema_dsn, missing, jobs, nice, log)
    return time.time() - began
