"""The catalogue keys added for the whole DIP: event common blocks, reports, inline fields, open events."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendip.catalogue import CatalogueError, load_catalogue


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _fails(directory: Path, *fragments: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(directory)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


def test_a_report_naming_an_unknown_block(data_copy: Path) -> None:
    _edit(
        data_copy / "interfaces" / "REP-004.yaml",
        "report: {block: REP-004-CustomBlock",
        "report: {block: REP-404-CustomBlock",
    )
    _fails(data_copy, "interfaces/REP-004.yaml", "report.block", "unknown block REP-404-CustomBlock")


def test_an_event_common_block_clashing_with_the_interface(data_copy: Path) -> None:
    _edit(data_copy / "interfaces" / "IF-016.yaml", "          R0: required\n", "          S1: required\n")
    _fails(data_copy, "interfaces/IF-016.yaml", "ActivePowerRejected.common_blocks", "S1 is already part")


def test_an_event_common_block_naming_an_unknown_block(data_copy: Path) -> None:
    _edit(
        data_copy / "interfaces" / "IF-016.yaml",
        "S2: {block: S1, presence: required}",
        "S2: {block: S9, presence: required}",
    )
    _fails(data_copy, "interfaces/IF-016.yaml", "unknown common block S9")


def test_an_inline_field_needs_its_own_type(data_copy: Path) -> None:
    _edit(data_copy / "blocks.yaml", "compressedReport: {json: string,", "compressedReport: {")
    _fails(data_copy, "blocks.yaml", "P03.fields.compressedReport", "constraints in a field need its own json type")


def test_open_events_accept_any_well_formed_code_only() -> None:
    catalogue = load_catalogue()
    assert catalogue.event("IF-042", "011", "NameChange") is not None
    assert catalogue.event("IF-042", "011", "bad code!") is None
    assert catalogue.event_codes("IF-042") == (), "no event code is invented"
    assert catalogue.interfaces["IF-051"].versions.keys() == {"001"}, "IF-051 is published at 001"
    replay = catalogue.event("IF-016", "011", "ActivePowerRejected")
    assert replay is not None and set(replay.common_blocks) == {"S2", "R0", "R1"}
    assert replay.common_blocks["S2"].block == "S1"
    schema = catalogue.schema_for("IF-016", "011", "ActivePowerRejected")
    assert schema["properties"]["CommonBlock"]["required"] == ["S0", "S1", "M0", "S2", "R0", "R1"]
