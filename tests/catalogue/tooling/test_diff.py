"""`catalogue diff`: what changed, and which changes break senders (exit 1 when any does)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from opendip.catalogue import DEFAULT_DIRECTORY, load_catalogue
from opendip.catalogue.tooling.diff import CatalogueDiff
from tests.helpers.hub import OPENDIP


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _lines(old: Path, new: Path) -> dict[str, bool]:
    return {
        change.line().removeprefix("BREAKING "): change.breaking
        for change in CatalogueDiff(load_catalogue(old), load_catalogue(new)).changes
    }


def test_identical_catalogues_have_no_changes() -> None:
    assert CatalogueDiff(load_catalogue(), load_catalogue()).changes == []


def test_breaking_and_compatible_changes_are_told_apart(data_copy: Path) -> None:
    items, blocks = data_copy / "data_items.yaml", data_copy / "blocks.yaml"
    _edit(items, "  enum: [W, L, H, E, U]", "  enum: [W, L, H, E, U, X]")  # DI-015 wider: fine
    _edit(
        items,
        "  name: Energy Direction\n  json: string\n  minLength: 1\n  maxLength: 1\n  enum: [I, E]",
        "  name: Energy Direction\n  json: string\n  minLength: 1\n  maxLength: 1\n  enum: [I]",
    )  # narrower
    _edit(blocks, "    meteredIndicator: DI-127\n", "")  # field removed
    _edit(
        blocks,
        "    issuingDataServiceDIPID: DT-006\n",
        "    issuingDataServiceDIPID: DT-006\n    note: {type: DT-020N, required: false}\n",
    )
    _edit(
        data_copy / "interfaces" / "IF-041.yaml",
        "B064List: {block: B064, array: true, required: false}",
        "B064List: {block: B064, array: true, required: true}",
    )
    _edit(
        data_copy / "interfaces" / "IF-044.yaml",
        "          B023: required\n",
        "          B023: required\n          B013: optional\n",
    )
    (data_copy / "interfaces" / "IF-042.yaml").unlink()
    found = _lines(DEFAULT_DIRECTORY, data_copy)
    assert found["changed data item DI-015: enum values added ['X']"] is False
    assert found["changed data item DI-035: enum values removed ['E']"] is True
    assert found["removed field B023.meteredIndicator"] is True
    assert found["added field B044.note: optional"] is False
    assert found["added block B013 to event IF-044 v011 [MarketSegmentChange]: optional"] is False
    readings = [line for line in found if line.startswith("changed block B064List in event IF-041 v011")]
    assert readings and all(found[line] for line in readings)
    assert found["removed interface IF-042"] is True


def test_constraint_changes_on_shared_types(data_copy: Path) -> None:
    types = data_copy / "data_types.yaml"
    _edit(
        types,
        "  name: Address Line\n  json: string\n  nullable: true\n  minLength: 0\n  maxLength: 40",
        "  name: Address Line\n  json: string\n  nullable: true\n  minLength: 0\n  maxLength: 35",
    )
    _edit(
        types,
        "  name: UK Post Code\n  json: string\n  nullable: true\n  minLength: 1\n  maxLength: 10",
        "  name: UK Post Code\n  json: string\n  nullable: true\n  minLength: 1\n  maxLength: 12",
    )
    found = _lines(DEFAULT_DIRECTORY, data_copy)
    assert found["changed data type DT-001N: maxLength 40 -> 35"] is True
    assert found["changed data type DT-007N: maxLength 10 -> 12"] is False
    assert found["changed field B022.addressLine1: maxLength 40 -> 35"] is True


def test_diff_command_exit_codes(data_copy: Path, tmp_path: Path) -> None:
    same = subprocess.run(
        [OPENDIP, "catalogue", "diff", str(DEFAULT_DIRECTORY), str(DEFAULT_DIRECTORY)], capture_output=True, text=True
    )
    assert same.returncode == 0, same.stderr
    assert "0 changes, 0 breaking" in same.stdout
    _edit(data_copy / "data_items.yaml", "  enum: [W, L, H, E, U]", "  enum: [W, L, H, E, U, X]")
    compatible = subprocess.run(
        [OPENDIP, "catalogue", "diff", str(DEFAULT_DIRECTORY), str(data_copy)], capture_output=True, text=True
    )
    assert compatible.returncode == 0 and " 0 breaking" in compatible.stdout
    assert "changed data item DI-015: enum values added" in compatible.stdout
    _edit(data_copy / "data_items.yaml", "  enum: [I, E]", "  enum: [I]")
    breaking = subprocess.run(
        [OPENDIP, "catalogue", "diff", str(DEFAULT_DIRECTORY), str(data_copy), "--json"], capture_output=True, text=True
    )
    assert breaking.returncode == 1
    report = json.loads(breaking.stdout)
    assert report["breaking"] >= 1 and any(c["subject"] == "data item DI-035" for c in report["changes"])
    missing = subprocess.run(
        [OPENDIP, "catalogue", "diff", str(tmp_path / "nope"), str(data_copy)], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "catalogue directory not found" in missing.stderr
