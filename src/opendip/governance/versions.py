"""Catalogue versions as stored data: the files of a catalogue directory, frozen and loadable anywhere.

A version is built with the catalogue tooling (import, edit, diff) in a
directory; registering it freezes its YAML files in the database, so every
API node and worker, on any machine, serves exactly the same bytes. Loading
writes them once to a cache directory named by their digest.
"""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import orjson

from opendip.catalogue import Catalogue, CatalogueError, load_catalogue
from opendip.errors import DipError, Msg


def read_files(directory: Path) -> dict[str, str]:
    """Every YAML file of a catalogue directory by its relative path; the catalogue must load cleanly."""
    if not directory.is_dir():
        raise DipError(Msg.SCHEMA_FAILURE, f"$.catalogue: {directory} is not a directory")
    try:
        load_catalogue(directory)
    except CatalogueError as exc:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.catalogue: the catalogue does not load: {exc}") from None
    return {str(p.relative_to(directory)): p.read_text() for p in sorted(directory.rglob("*.yaml"))}


def pack(files: dict[str, str]) -> tuple[bytes, str]:
    """The files compressed for storage, and their digest (the same files always give the same digest)."""
    canonical = orjson.dumps(files, option=orjson.OPT_SORT_KEYS)
    return zlib.compress(canonical, 6), hashlib.sha256(canonical).hexdigest()


def unpack(packed: bytes) -> dict[str, str]:
    files: dict[str, str] = orjson.loads(zlib.decompress(packed))
    return files


def materialise(files: dict[str, str], digest: str, cache: Path) -> Path:
    """The files written under `cache/<digest>` (once: a digest never changes its content)."""
    folder = cache / digest
    if not (folder / ".complete").exists():
        for relative, text in files.items():
            target = (folder / relative).resolve()
            if folder.resolve() not in target.parents:
                raise DipError(Msg.SCHEMA_FAILURE, f"catalogue file {relative!r} points outside its folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        (folder / ".complete").write_text(digest)
    return folder


def load_version(packed: bytes, digest: str, cache: Path, environment: str | None) -> Catalogue:
    return load_catalogue(materialise(unpack(packed), digest, cache), environment=environment)
