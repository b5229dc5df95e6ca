"""Backups that restore: take, list, verify, restore, and the drill that proves a backup comes back whole.

A backup is three files in the backup directory: the store's snapshot, a
tar.gz of the data dir's own files (the CA, the hub's key, participants'
credentials: without them a restored store cannot sign or verify anything),
and the manifest. Verifying recomputes both checksums and asks the engine to
read the snapshot; the drill restores into a scratch place and compares the
row counts and the messages digest with the manifest.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from opendip.config import Settings
from opendip.ops import backup_engines as engines
from opendip.ops.backup_engines import BackupError, Inspection
from opendip.ops.backup_files import (
    PARTIAL,
    Manifest,
    archive_data_files,
    backup_name,
    extract_data_files,
    find_manifest,
    manifests,
    prune,
    sha256_of,
)

log = structlog.get_logger(__name__)


@dataclass
class Verification:
    manifest: Manifest
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class BackupService:
    """Backups of one hub's store and data dir, in its backup directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = settings.effective_backup_dir

    # ------------------------------------------------------------ take

    def take(self) -> Manifest:
        """A consistent backup now; ingest and delivery carry on while it is taken."""
        self.directory.mkdir(parents=True, exist_ok=True)
        started = time.time()
        name = backup_name(started, self.directory)
        url = self.settings.effective_database_url
        store_file = f"{name}.sqlite" if self.settings.is_sqlite else f"{name}.pgdump"
        store = self.directory / (store_file + PARTIAL)
        schema: str | None = None
        try:
            if self.settings.is_sqlite:
                engines.snapshot_sqlite(engines.sqlite_file(url), store)
                inspection = engines.inspect_sqlite(store)
            else:
                inspection, schema = engines.snapshot_postgres(url, store)
            files_archive = f"{name}.files.tar.gz"
            files = self.directory / (files_archive + PARTIAL)
            archive_data_files(self.settings.data_dir, files)
            manifest = Manifest(
                name=name,
                engine="sqlite" if self.settings.is_sqlite else "postgresql",
                store_file=store_file,
                store_sha256=sha256_of(store),
                store_bytes=store.stat().st_size,
                files_archive=files_archive,
                files_sha256=sha256_of(files),
                started_at=started,
                finished_at=time.time(),
                counts=inspection.counts,
                messages_digest=inspection.messages_digest,
                schema=schema,
                revision=inspection.revision,
            )
            store.replace(self.directory / store_file)
            files.replace(self.directory / files_archive)
            manifest.save(self.directory)
        except BaseException:
            for leftover in self.directory.glob(f"{name}.*{PARTIAL}"):
                leftover.unlink(missing_ok=True)
            raise
        log.info("backup taken", name=name, messages=manifest.messages, seconds=round(time.time() - started, 2))
        return manifest

    def all(self) -> list[Manifest]:
        return [manifest for _, manifest in manifests(self.directory)]

    def newest(self) -> Manifest | None:
        found = self.all()
        return found[-1] if found else None

    def prune(self, now: float | None = None) -> list[str]:
        return prune(self.directory, self.settings.backup_keep_seconds, now)

    def locate(self, file: Path | None) -> tuple[Path, Manifest]:
        """A backup by file or manifest path, by name in the backup directory, or the newest one."""
        if file is None:
            found = manifests(self.directory)
            if not found:
                raise BackupError(f"no backups in {self.directory}")
            return found[-1]
        candidates = [file] if file.exists() else [self.directory / file.name, self.directory / str(file)]
        for candidate in candidates:
            try:
                return find_manifest(candidate)
            except FileNotFoundError:
                continue
        raise BackupError(f"no backup {file} (and none of that name in {self.directory})")

    # ------------------------------------------------------------ check

    def verify(self, file: Path | None) -> Verification:
        manifest_path, manifest = self.locate(file)
        directory = manifest_path.parent
        result = Verification(manifest)
        for name, expected in (
            (manifest.store_file, manifest.store_sha256),
            (manifest.files_archive, manifest.files_sha256),
        ):
            path = directory / name
            if not path.is_file():
                result.problems.append(f"{name} is missing")
            elif (actual := sha256_of(path)) != expected:
                result.problems.append(f"{name}: checksum {actual} differs from the manifest's {expected}")
        store = directory / manifest.store_file
        if not result.problems:
            check = engines.check_sqlite if manifest.engine == "sqlite" else engines.check_postgres_dump
            if (problem := check(store)) is not None:
                result.problems.append(f"{manifest.store_file} does not read back: {problem}")
        return result

    # ------------------------------------------------------------ restore

    def restore(self, file: Path | None, data_dir: Path, database_url: str | None = None) -> dict[str, object]:
        """Build a working data dir (and, for PostgreSQL, a schema in `database_url`) from a verified backup."""
        verification = self.verify(file)
        if not verification.ok:
            raise BackupError("; ".join(verification.problems))
        manifest_path, manifest = self.locate(file)
        directory = manifest_path.parent
        if data_dir.exists() and any(data_dir.iterdir()):
            raise BackupError(f"{data_dir} is not empty: restore into a new data dir")
        started = time.time()
        data_dir.mkdir(parents=True, exist_ok=True)
        extract_data_files(directory / manifest.files_archive, data_dir)
        store = directory / manifest.store_file
        if manifest.engine == "sqlite":
            restored = engines.restore_sqlite(store, data_dir)
            url = f"sqlite:///{restored.resolve()}"
            inspection = engines.inspect_sqlite(restored)
        else:
            if not database_url:
                raise BackupError("a PostgreSQL backup restores into a database: give --database-url")
            url = engines.restore_postgres(store, database_url, manifest.schema or "public")
            inspection = engines.inspect_postgres(url)
            (data_dir / "database.env").write_text(f"OPENDIP_DATABASE_URL={url}\n")
        problems = compare(manifest, inspection)
        if problems:
            raise BackupError("restored store differs from the backup: " + "; ".join(problems))
        return {
            "restored": manifest.name,
            "data_dir": str(data_dir),
            "database_url": url,
            "counts": inspection.counts,
            "seconds": round(time.time() - started, 3),
        }

    def drill(self, file: Path | None = None) -> dict[str, object]:
        """Restore into a scratch place, compare counts and digest with the manifest, clean up."""
        _, manifest = self.locate(file)
        started = time.time()
        with tempfile.TemporaryDirectory(prefix="opendip-drill-") as scratch:
            if manifest.engine == "sqlite":
                outcome = self.restore(file, Path(scratch) / "data")
            else:
                name = f"opendip_drill_{uuid.uuid4().hex[:12]}"
                server = self.settings.effective_database_url
                engines.create_scratch_database(server, name)
                try:
                    outcome = self.restore(file, Path(scratch) / "data", engines.with_database(server, name, "public"))
                finally:
                    engines.drop_scratch_database(server, name)
        return {
            "backup": manifest.name,
            "ok": True,
            "counts": outcome["counts"],
            "messages_digest": manifest.messages_digest,
            "restore_seconds": outcome["seconds"],
            "seconds": round(time.time() - started, 3),
        }


def compare(manifest: Manifest, inspection: Inspection) -> list[str]:
    problems = [
        f"{table}: {inspection.counts.get(table)} rows, the backup had {count}"
        for table, count in manifest.counts.items()
        if inspection.counts.get(table) != count
    ]
    if inspection.messages_digest != manifest.messages_digest:
        problems.append("the messages digest differs")
    return problems
