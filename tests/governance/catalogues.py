"""Catalogue versions built the way an engineer builds one: copy the catalogue, edit its YAML, diff it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from opendip.catalogue import DEFAULT_DIRECTORY

NEW_FIELD = "connectionTypeChangeReason"


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def with_optional_field(folder: Path) -> Path:
    """IF-043 schemaVersion 012: v011 plus an optional free-text reason in its B023 block."""
    shutil.copytree(DEFAULT_DIRECTORY, folder)

    def block(data: dict) -> None:  # type: ignore[type-arg]
        fields = dict(data["B023"]["fields"])
        fields[NEW_FIELD] = {"type": "DT-001N", "required": False}
        data["B023V012"] = {"name": "MPAN Connection Info (with reason)", "fields": fields}

    def interface(data: dict) -> None:  # type: ignore[type-arg]
        data["versions"]["012"] = {
            "events": {"ConnectionTypeChange": {"blocks": {"B023": {"block": "B023V012", "required": True}}}}
        }

    _edit(folder / "blocks.yaml", block)
    _edit(folder / "interfaces" / "IF-043.yaml", interface)
    return folder


def without_version_011(folder: Path) -> Path:
    """A breaking version: IF-043 v011 withdrawn in favour of v012."""
    with_optional_field(folder)
    _edit(folder / "interfaces" / "IF-043.yaml", lambda data: data["versions"].pop("011"))
    return folder
