"""Retention archives on disk: JSON Lines, gzip-compressed, each with a manifest and its SHA-256.

One line is one unit of purged data with everything that went with it (a
message with its deliveries and L4 statuses; a journal entry; an audit entry),
as `{"table": [row, ...], ...}` with the rows' own columns, so an archive reads
back into the store exactly (bytes columns as `{"base64": ...}`). A file is
written as `.partial`, synced, then renamed beside its manifest: an archive
that is listed is complete.
"""

from __future__ import annotations

import base64
import gzip
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from opendip.ops.backup_files import sha256_of

SUFFIX = ".jsonl.gz"
MANIFEST = ".manifest.json"
PARTIAL = ".partial"


@dataclass
class ArchiveManifest:
    kind: str
    file: str
    sha256: str
    bytes: int
    rows: int
    first_id: int
    last_id: int
    from_at: float
    to_at: float
    created_at: float

    def row(self) -> dict[str, Any]:
        """The manifest as a row of retention_archives (its columns but the state ones)."""
        fields = ("kind", "file", "sha256", "bytes", "rows", "first_id", "last_id", "from_at", "to_at", "created_at")
        return {name: getattr(self, name) for name in fields}

    def save(self, directory: Path) -> None:
        (directory / (self.file + MANIFEST)).write_bytes(orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2))

    @classmethod
    def load(cls, path: Path) -> ArchiveManifest:
        return cls(**orjson.loads(path.read_bytes()))


def to_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: {"base64": base64.b64encode(v).decode()} if isinstance(v, bytes | memoryview) else v for k, v in row.items()
    }


def from_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: base64.b64decode(v["base64"]) if isinstance(v, dict) and "base64" in v else v for k, v in row.items()}


class ArchiveWriter:
    """Writes one archive file; `close()` makes it complete (synced, renamed, manifest beside it)."""

    def __init__(self, directory: Path, kind: str, now: float) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        self.directory = directory
        self.kind = kind
        self.file = f"{kind}-{stamp}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        self.created_at = now
        self._path = directory / (self.file + PARTIAL)
        self._raw: IO[bytes] = self._path.open("wb")
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self.rows = 0
        self.first_id = self.last_id = 0
        self.from_at = float("inf")
        self.to_at = float("-inf")

    def write(self, unit_id: int, at: float, tables: Mapping[str, list[Mapping[str, Any]]]) -> None:
        line = {table: [to_json(row) for row in rows] for table, rows in tables.items()}
        self._gzip.write(orjson.dumps(line) + b"\n")
        self.first_id = unit_id if self.rows == 0 else min(self.first_id, unit_id)
        self.last_id = max(self.last_id, unit_id)
        self.from_at = min(self.from_at, at)
        self.to_at = max(self.to_at, at)
        self.rows += 1

    def close(self) -> ArchiveManifest:
        self._gzip.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        final = self.directory / self.file
        self._path.replace(final)
        manifest = ArchiveManifest(
            kind=self.kind,
            file=self.file,
            sha256=sha256_of(final),
            bytes=final.stat().st_size,
            rows=self.rows,
            first_id=self.first_id,
            last_id=self.last_id,
            from_at=self.from_at,
            to_at=self.to_at,
            created_at=self.created_at,
        )
        manifest.save(self.directory)
        return manifest

    def abort(self) -> None:
        self._gzip.close()
        self._raw.close()
        self._path.unlink(missing_ok=True)


def manifests(directory: Path) -> list[ArchiveManifest]:
    """Every complete archive in `directory`, oldest content first."""
    if not directory.is_dir():
        return []
    found = [ArchiveManifest.load(path) for path in directory.glob(f"*{SUFFIX}{MANIFEST}")]
    return sorted(found, key=lambda m: (m.kind, m.from_at, m.file))


def locate(directory: Path, name: str | Path) -> tuple[Path, ArchiveManifest]:
    """An archive by its file (or manifest) path or by its name in `directory`."""
    given = Path(name)
    text = str(given.name).removesuffix(MANIFEST)
    for candidate in (given.parent / text, directory / text):
        manifest = candidate.with_name(candidate.name + MANIFEST)
        if candidate.is_file() and manifest.is_file():
            return candidate, ArchiveManifest.load(manifest)
    raise FileNotFoundError(f"no archive {name} (with its manifest) here or in {directory}")


def read(path: Path) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The archive's units, each `{table: [row, ...]}` with bytes columns decoded."""
    with gzip.open(path, "rb") as handle:
        for line in handle:
            unit = orjson.loads(line)
            yield {table: [from_json(row) for row in rows] for table, rows in unit.items()}


def verify(path: Path, manifest: ArchiveManifest) -> list[str]:
    """Problems found: a checksum that differs, a file that does not decompress or parse, a wrong row count."""
    actual = sha256_of(path)
    if actual != manifest.sha256:
        return [f"{manifest.file}: checksum {actual} differs from the manifest's {manifest.sha256}"]
    try:
        count = sum(1 for _ in read(path))
    except (OSError, EOFError, orjson.JSONDecodeError) as exc:
        return [f"{manifest.file} does not read back: {exc}"]
    if count != manifest.rows:
        return [f"{manifest.file}: {count} rows, the manifest says {manifest.rows}"]
    return []
