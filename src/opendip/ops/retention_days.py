"""Journal retention by day on PostgreSQL: archive a whole old day, then drop its partition.

A day is taken whole once all of it is older than the cutoff and none of its
entries belongs to a message still stored (the journal is a message's tracking
while the message is kept). Its rows are read from that day's partition alone
and archived exactly as row-by-row retention archives them (one entry a line,
compressed, with a checksum); the archive is recorded; then, in one short
transaction, the day's row count is checked against the archive (its writers
held off) and the partition is detached and dropped. The drop is a catalogue
change: its cost does not depend on how many rows the day or the table holds,
and no index is maintained. A day that cannot go whole (an entry still held, a
row written since it was archived) is left to the row deletes that follow, and
looked at again on the next run; the legacy and default partitions are only
ever purged by rows, and the legacy one dropped once empty and passed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy import Connection, text, update

from opendip.core.reads import read_engine
from opendip.core.tables import retention_archives
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.journal_days import DayPartition
from opendip.ops.archive_files import ArchiveManifest, ArchiveWriter
from opendip.ops.retention_kinds import raise_floor

log = structlog.get_logger(__name__)
KIND = "journal"
_LEGACY_BOUND = re.compile(r"TO \('?(-?[0-9.e+]+)'?\)")


@dataclass
class DaysPurged:
    """What dropping whole days did in one run."""

    archived: int = 0
    purged: int = 0
    archive_bytes: int = 0
    longest_write_ms: float = 0.0
    purge_ms: float = 0.0
    days: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)


class _Changed(Exception):
    """The day holds other rows than the archive: its drop is undone and left for a later run."""


class DayRetention:
    def __init__(self, db: Database, directory: Path, archive_rows: int, batch: int, clock: Callable[[], float]):
        self.db = db
        self.directory = directory
        self.archive_rows = max(1, archive_rows)
        self.batch = max(1, batch)
        self.clock = clock

    def run(self, cutoff: float) -> DaysPurged:
        """Every day partition wholly older than `cutoff`, archived and dropped where nothing holds it."""
        done = DaysPurged()
        with self.db.engine.connect() as conn:
            old = [p for p in journal_days.days(conn) if p.ends <= cutoff]
        for partition in old:
            with read_engine(self.db).connect() as conn:
                if _held(conn, partition):
                    continue
            self._archive_then_drop(partition, done)
        return done

    def _archive_then_drop(self, partition: DayPartition, done: DaysPurged) -> None:
        written: list[tuple[int, ArchiveManifest]] = []
        writer: ArchiveWriter | None = None
        rows, after = 0, 0
        try:
            while True:
                with read_engine(self.db).connect() as conn:
                    query = text(f"SELECT * FROM {partition.name} WHERE id > :after ORDER BY id LIMIT :n")
                    batch = [dict(r) for r in conn.execute(query, {"after": after, "n": self.batch}).mappings()]
                for row in batch:
                    writer = writer or ArchiveWriter(self.directory, KIND, self.clock())
                    writer.write(int(row["id"]), float(row["at"]), {"journal": [row]})
                    if writer.rows >= self.archive_rows:
                        written.append(self._record(writer.close()))
                        writer = None
                rows += len(batch)
                if len(batch) < self.batch:
                    break
                after = int(batch[-1]["id"])
            if writer is not None:
                written.append(self._record(writer.close()))
                writer = None
        except Exception:
            if writer is not None:
                writer.abort()
            raise
        began = time.perf_counter()
        try:
            with self.db.begin() as conn:
                if journal_days.count_rows(conn, partition.name) != rows:
                    raise _Changed(partition.name)
                counted = time.perf_counter()
                journal_days.drop(conn, partition.name)
                detached = time.perf_counter()
                for archive_id, manifest in written:
                    conn.execute(
                        update(retention_archives)
                        .where(retention_archives.c.id == archive_id)
                        .values(purged=manifest.rows, status="purged")
                    )
                raise_floor(conn, KIND, partition.ends)
        except _Changed:
            return
        took = (time.perf_counter() - began) * 1000
        log.info(
            "journal day dropped",
            partition=partition.name,
            rows=rows,
            count_ms=round((counted - began) * 1000, 1),
            detach_drop_ms=round((detached - counted) * 1000, 1),
            transaction_ms=round(took, 1),
        )
        done.longest_write_ms = max(done.longest_write_ms, took)
        done.purge_ms += took
        done.archived += rows
        done.purged += rows
        done.days.append(partition.name)
        for _, manifest in written:
            done.archive_bytes += manifest.bytes
            done.archives.append(manifest.file)

    def _record(self, manifest: ArchiveManifest) -> tuple[int, ArchiveManifest]:
        with self.db.begin() as conn:
            archive_id = conn.execute(
                retention_archives.insert()
                .values(**manifest.row(), purged=0, status="written")
                .returning(retention_archives.c.id)
            ).scalar_one()
        return int(archive_id), manifest

    def drop_passed_legacy(self, cutoff: float) -> list[str]:
        """The legacy partition (the rows from before partitioning) dropped once row deletes have emptied it
        and the cutoff has passed its range; the names dropped."""
        with self.db.engine.connect() as conn:
            bound = _legacy_bound(conn)
            if bound is None or bound > cutoff:
                return []
            if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {journal_days.LEGACY})")).scalar_one():
                return []
        with self.db.begin() as conn:
            if journal_days.count_rows(conn, journal_days.LEGACY) != 0:
                return []
            journal_days.drop(conn, journal_days.LEGACY)
        return [journal_days.LEGACY]


def _held(conn: Connection, partition: DayPartition) -> bool:
    """Some entry of the day belongs to a message still stored (one probe per entry of the day, at most)."""
    query = text(
        f"SELECT EXISTS (SELECT 1 FROM {partition.name} j "
        "WHERE EXISTS (SELECT 1 FROM messages m WHERE m.transaction_id = j.transaction_id))"
    )
    return bool(conn.execute(query).scalar_one())


def _legacy_bound(conn: Connection) -> float | None:
    """Where the legacy partition's range ends, if the journal has one."""
    query = text(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
        "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace AND c.relispartition"
    )
    bound = conn.execute(query, {"name": journal_days.LEGACY}).scalar_one_or_none()
    found = _LEGACY_BOUND.search(str(bound)) if bound is not None else None
    return float(found.group(1)) if found else None
