"""Backup sets on disk: the store snapshot, the data dir's own files, and a manifest that names both.

A backup must be usable when the database it came from is gone, so everything
needed to list, verify and restore it lives beside it in the backup directory:
the manifest (JSON) carries the checksums, counts and the digest of the
messages table, and is written last, so a half-written backup is never listed.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

MANIFEST_SUFFIX = ".manifest.json"
PARTIAL = ".partial"
# what a data dir holds besides its store: certificates, participants' credentials, catalogues, policies
SKIPPED_NAMES = ("opendip.db", "opendip.db-wal", "opendip.db-shm", "backups", "archive")
CHUNK = 1024 * 1024


@dataclass
class Manifest:
    """What one backup holds and how to check it."""

    name: str
    engine: str  # sqlite | postgresql
    store_file: str
    store_sha256: str
    store_bytes: int
    files_archive: str
    files_sha256: str
    started_at: float
    finished_at: float
    counts: dict[str, int]
    messages_digest: str
    schema: str | None = None  # PostgreSQL: the schema the tables live in
    revision: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> int:
        return self.counts.get("messages", 0)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text())
        return cls(**data)

    def save(self, directory: Path) -> Path:
        path = directory / f"{self.name}{MANIFEST_SUFFIX}"
        temporary = path.with_name(path.name + PARTIAL)
        temporary.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=True))
        temporary.replace(path)
        return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup_name(now: float, directory: Path) -> str:
    """A name that sorts by time and never collides with an earlier backup in the same second."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    name, serial = f"opendip-{stamp}", 1
    while (directory / f"{name}{MANIFEST_SUFFIX}").exists():
        serial += 1
        name = f"opendip-{stamp}-{serial}"
    return name


def archive_data_files(data_dir: Path, target: Path) -> None:
    """The data dir's small files (PKI, credentials, settings files): the store is backed up on its own."""
    with tarfile.open(target, "w:gz") as archive:
        if not data_dir.is_dir():
            return
        for entry in sorted(data_dir.iterdir()):
            if entry.name in SKIPPED_NAMES or entry.suffix == ".log" or entry.name.endswith(PARTIAL):
                continue
            archive.add(entry, arcname=entry.name)


def extract_data_files(archive_path: Path, data_dir: Path) -> None:
    with tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(data_dir, filter="data")


def manifests(directory: Path) -> list[tuple[Path, Manifest]]:
    """Every complete backup in the directory, oldest first."""
    if not directory.is_dir():
        return []
    found = [(path, Manifest.load(path)) for path in directory.glob(f"*{MANIFEST_SUFFIX}")]
    return sorted(found, key=lambda item: (item[1].started_at, item[1].name))


def find_manifest(file: Path) -> tuple[Path, Manifest]:
    """The manifest of a backup named by its store file, its manifest, or its name in the backup directory."""
    candidates = [file]
    if not file.name.endswith(MANIFEST_SUFFIX):
        stem = file.name.split(".", 1)[0]
        candidates.append(file.with_name(stem + MANIFEST_SUFFIX))
    for candidate in candidates:
        if candidate.name.endswith(MANIFEST_SUFFIX) and candidate.is_file():
            return candidate, Manifest.load(candidate)
    raise FileNotFoundError(f"no backup manifest for {file} (looked for {candidates[-1]})")


def prune(directory: Path, keep_seconds: float, now: float | None = None) -> list[str]:
    """Delete backups older than the keep period, never the newest one; returns the names removed."""
    now = time.time() if now is None else now
    sets = manifests(directory)
    removed: list[str] = []
    for path, manifest in sets[:-1]:
        if now - manifest.finished_at <= keep_seconds:
            continue
        for name in (manifest.store_file, manifest.files_archive):
            (directory / name).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        removed.append(manifest.name)
    for leftover in directory.glob(f"*{PARTIAL}") if directory.is_dir() else ():
        if now - leftover.stat().st_mtime > keep_seconds:  # a backup cut off by a crash
            leftover.unlink(missing_ok=True)
    return removed
