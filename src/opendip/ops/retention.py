"""Retention: archive, then purge, each kind of data older than its configured period.

A run reads old rows in batches through a read-only connection (no write
lock held while reading), writes them to an archive file, syncs it and
records it; only then are those rows deleted, `retention_batch` at a time,
each batch its own short transaction, so ingest waits at most one small
delete (the longest is recorded as `longest_write_ms`). A crash between the
two leaves an archive whose rows are still stored: the next run archives them
again, so nothing is ever deleted that no archive holds.

On PostgreSQL the journal is partitioned by day: its old days are archived and
dropped whole first (opendip.ops.retention_days), at a cost that does not grow
with the table, and its cutoff is taken back to a day's start; row deletes are
left for the rows no day partition holds (legacy, default) and held days.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from opendip.config import Settings
from opendip.core import hour_counts
from opendip.core.reads import read_engine
from opendip.core.tables import retention_archives
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.models import message_keys, sender_references
from opendip.ops import archive_files
from opendip.ops.archive_files import ArchiveManifest, ArchiveWriter
from opendip.ops.retention_days import DayRetention
from opendip.ops.retention_kinds import KINDS, RESTORE_ORDER, START, TABLES, Candidate, Kind, oldest, raise_floor
from opendip.ops.tables import retention_runs

log = structlog.get_logger(__name__)
DAY = 86400.0


class RetentionError(ValueError):
    """A retention request that cannot be carried out (an unknown kind, an archive that fails its checks)."""


@dataclass
class RunResult:
    kind: str
    cutoff: float
    archived: int = 0
    purged: int = 0
    held: int = 0
    archive_bytes: int = 0
    longest_write_ms: float = 0.0
    purge_ms: float = 0.0
    """All delete transactions together (the purge's share of the run, archiving aside)."""
    archives: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    """Journal partitions dropped whole (PostgreSQL): each an old day, archived first."""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RetentionService:
    def __init__(self, settings: Settings, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.directory = settings.effective_archive_dir

    def period_days(self, kind: str) -> float:
        days: float = getattr(self.settings, f"retention_{kind}_days")
        return days

    def run(self, kinds: Sequence[str] | None = None) -> list[RunResult]:
        """One pass over every kind with a retention period (or the ones named)."""
        chosen = list(kinds or KINDS)
        unknown = [k for k in chosen if k not in KINDS]
        if unknown:
            raise RetentionError(f"unknown kind {unknown[0]!r}: one of {', '.join(KINDS)}")
        results = []
        for name in chosen:
            days = self.period_days(name)
            if days > 0:
                results.append(self.run_kind(KINDS[name], self.clock() - days * DAY))
        return results

    def run_kind(self, kind: Kind, cutoff: float) -> RunResult:
        started = self.clock()
        by_day = kind.name == "journal" and self._journal_by_day()
        if by_day:  # whole days only: the day the cutoff falls in goes whole on a later run
            cutoff = float(journal_days.day_of(cutoff) * journal_days.DAY)
        result = RunResult(kind.name, cutoff)
        batch = max(1, self.settings.retention_batch)
        cursor: tuple[float, int] | None = START
        writer: ArchiveWriter | None = None
        waiting: list[Candidate] = []
        error: str | None = None
        try:
            if by_day:
                self._drop_days(cutoff, result)
            while cursor is not None:
                with read_engine(self.db).connect() as conn:
                    found, cursor = kind.candidates(conn, cutoff, cursor, batch)
                    held = kind.held(conn, found)
                    keep = [c for c in found if c.id not in held]
                    records = kind.records(conn, keep) if keep else {}
                result.held += len(held)
                for candidate in keep:
                    if candidate.id in records:
                        writer = writer or ArchiveWriter(self.directory, kind.name, self.clock())
                        writer.write(candidate.id, candidate.at, records[candidate.id])
                        waiting.append(candidate)
                if writer is not None and (cursor is None or writer.rows >= self.settings.retention_archive_rows):
                    self._archive_then_purge(kind, writer, waiting, cutoff, result)
                    writer, waiting = None, []
            if by_day:
                result.dropped.extend(self._days().drop_passed_legacy(cutoff))
        except Exception as exc:
            if writer is not None:
                writer.abort()
            error = f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            result.seconds = round(self.clock() - started, 3)
            self._record_run(result, started, error)
        log.info("retention run", **{k: v for k, v in result.as_dict().items() if k not in ("archives", "dropped")})
        return result

    def _journal_by_day(self) -> bool:
        with self.db.engine.connect() as conn:
            return journal_days.is_partitioned(conn)

    def _days(self) -> DayRetention:
        rows, batch = self.settings.retention_archive_rows, self.settings.retention_batch
        return DayRetention(self.db, self.directory, rows, batch, self.clock)

    def _drop_days(self, cutoff: float, result: RunResult) -> None:
        days = self._days().run(cutoff)
        result.archived += days.archived
        result.purged += days.purged
        result.archive_bytes += days.archive_bytes
        result.longest_write_ms = max(result.longest_write_ms, days.longest_write_ms)
        result.purge_ms += days.purge_ms
        result.archives.extend(days.archives)
        result.dropped.extend(days.days)

    def _archive_then_purge(
        self, kind: Kind, writer: ArchiveWriter, waiting: list[Candidate], cutoff: float, result: RunResult
    ) -> None:
        manifest = writer.close()
        with self.db.begin() as conn:
            archive_id = conn.execute(
                retention_archives.insert()
                .values(**manifest.row(), purged=0, status="written")
                .returning(retention_archives.c.id)
            ).scalar_one()
        purged = 0
        step = max(1, self.settings.retention_batch)
        for start in range(0, len(waiting), step):
            began = time.perf_counter()
            with self.db.begin() as conn:
                purged += kind.purge(conn, waiting[start : start + step], cutoff)
            took = (time.perf_counter() - began) * 1000
            result.longest_write_ms = max(result.longest_write_ms, took)
            result.purge_ms += took
        with self.db.begin() as conn:
            conn.execute(
                update(retention_archives)
                .where(retention_archives.c.id == archive_id)
                .values(purged=purged, status="purged")
            )
            raise_floor(conn, kind.name, cutoff)
        result.archived += manifest.rows
        result.purged += purged
        result.archive_bytes += manifest.bytes
        result.archives.append(manifest.file)

    def _record_run(self, result: RunResult, started: float, error: str | None) -> None:
        with self.db.begin() as conn:
            conn.execute(
                retention_runs.insert().values(
                    kind=result.kind,
                    started_at=started,
                    finished_at=self.clock(),
                    cutoff=result.cutoff,
                    archived=result.archived,
                    purged=result.purged,
                    held=result.held,
                    archive_bytes=result.archive_bytes,
                    longest_write_ms=round(result.longest_write_ms, 3),
                    error=error,
                )
            )

    # ------------------------------------------------------------ what there is

    def status(self) -> dict[str, Any]:
        """Per kind: its period, the last run, totals purged and archived; the oldest stored message."""
        r, a = retention_runs.c, retention_archives.c
        with read_engine(self.db).connect() as conn:
            kinds: dict[str, Any] = {}
            for name in KINDS:
                last = (
                    conn.execute(select(retention_runs).where(r.kind == name).order_by(r.started_at.desc()).limit(1))
                    .mappings()
                    .first()
                )
                totals = conn.execute(
                    select(
                        func.count(), func.coalesce(func.sum(a.purged), 0), func.coalesce(func.sum(a.bytes), 0)
                    ).where(a.kind == name)
                ).one()
                kinds[name] = {
                    "days": self.period_days(name),
                    "last_run": dict(last) if last else None,
                    "archives": int(totals[0]),
                    "purged": int(totals[1]),
                    "archive_bytes": int(totals[2]),
                }
            stored_oldest = oldest(conn)
        kinds["backups"] = {"days": self.settings.backup_keep_seconds / DAY, "note": "see opendip backup list"}
        return {"oldest_message_at": stored_oldest, "archive_dir": str(self.directory), "kinds": kinds}

    def archives(self, kind: str | None = None) -> list[dict[str, Any]]:
        a = retention_archives.c
        query = select(retention_archives).order_by(a.kind, a.from_at, a.id)
        if kind:
            query = query.where(a.kind == kind)
        with read_engine(self.db).connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def verify(self, name: str) -> tuple[ArchiveManifest, list[str]]:
        path, manifest = self._locate(name)
        return manifest, archive_files.verify(path, manifest)

    def _locate(self, name: str) -> tuple[Path, ArchiveManifest]:
        try:
            return archive_files.locate(self.directory, name)
        except FileNotFoundError as exc:
            raise RetentionError(str(exc)) from exc

    # ------------------------------------------------------------ read back

    def restore(self, name: str) -> dict[str, Any]:
        """Put an archive's rows back into the store (rows still there are left as they are)."""
        path, manifest = self._locate(name)
        problems = archive_files.verify(path, manifest)
        if problems:
            raise RetentionError("; ".join(problems))
        inserted = dict.fromkeys(RESTORE_ORDER, 0)
        units: list[dict[str, list[dict[str, Any]]]] = []

        def flush() -> None:
            def insert(conn: Connection) -> None:
                for table in RESTORE_ORDER:
                    rows = [row for unit in units for row in unit.get(table, [])]
                    if rows:
                        inserted[table] += _insert_missing(conn, table, rows)

            about = {r["transaction_id"] for unit in units for t in ("messages", "deliveries") for r in unit.get(t, [])}
            with self.db.begin() as conn:  # the dashboard's hourly counts take the messages back
                hour_counts.around(conn, about, lambda: insert(conn))
            units.clear()

        for unit in archive_files.read(path):
            units.append(unit)
            if len(units) >= self.settings.retention_batch:
                flush()
        flush()
        with self.db.begin() as conn:
            conn.execute(
                update(retention_archives).where(retention_archives.c.file == manifest.file).values(status="restored")
            )
        return {"archive": manifest.file, "kind": manifest.kind, "rows": manifest.rows, "inserted": inserted}


def _insert_missing(conn: Connection, table: str, rows: list[dict[str, Any]]) -> int:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    target = TABLES[table]
    statement = dialect.insert(target).on_conflict_do_nothing().returning(target.c.id)
    ids = {row[0] for row in conn.execute(statement, rows).all()}
    if table == "messages" and ids:  # a message put back takes its keys back
        put = [row for row in rows if row["id"] in ids]
        keys = [{"transaction_id": r["transaction_id"], "received_day": int(r["received_at"] // DAY)} for r in put]
        refs = [{k: r[k] for k in ("sender_dip_id", "sender_unique_reference", "transaction_id")} for r in put]
        conn.execute(dialect.insert(message_keys).on_conflict_do_nothing(), keys)
        conn.execute(dialect.insert(sender_references).on_conflict_do_nothing(), refs)
    return len(ids)
