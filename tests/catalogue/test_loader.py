"""A broken catalogue refuses to load, naming the file and the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendip.catalogue import CatalogueError, load_catalogue


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def _fails(directory: Path, *fragments: str) -> str:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(directory)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_packaged_catalogue_loads() -> None:
    catalogue = load_catalogue()
    assert catalogue.source is not None and catalogue.source.name == "data"
    assert {"SUP", "REGS", "LDSO", "ECS"} <= set(catalogue.roles)


def test_unknown_data_item_in_a_block(data_copy: Path) -> None:
    _edit(data_copy / "blocks.yaml", "connectionTypeIndicator: DI-015", "connectionTypeIndicator: DI-999")
    _fails(data_copy, "blocks.yaml", "B023.fields.connectionTypeIndicator", "unknown data item DI-999")


def test_unknown_data_type_in_a_block(data_copy: Path) -> None:
    _edit(data_copy / "blocks.yaml", "issuingDataServiceDIPID: DT-006", "issuingDataServiceDIPID: DT-606")
    _fails(data_copy, "blocks.yaml", "B044.fields.issuingDataServiceDIPID", "unknown data type DT-606")


def test_unknown_nested_block(data_copy: Path) -> None:
    _edit(data_copy / "blocks.yaml", "    MQID: B045", "    MQID: B404")
    _fails(data_copy, "blocks.yaml", "B900.fields.MQID", "unknown block B404")


def test_blocks_nesting_in_a_loop(data_copy: Path) -> None:
    _edit(
        data_copy / "blocks.yaml",
        "    settlementDay: B046\n    consumptionPeriods",
        "    settlementDay: B900\n    consumptionPeriods",
    )
    _fails(data_copy, "blocks.yaml", "loop", "B900 -> B901 -> B900")


def test_unknown_data_type_under_a_data_item(data_copy: Path) -> None:
    with (data_copy / "data_items.yaml").open("a") as handle:
        handle.write("DI-001:\n  name: Broken\n  type: DT-999\n")
    _fails(data_copy, "data_items.yaml", "DI-001.type", "unknown data type DT-999")


def test_unknown_block_in_an_event(data_copy: Path) -> None:
    _edit(data_copy / "interfaces" / "IF-043.yaml", "B023: required", "B999: required")
    _fails(
        data_copy,
        "interfaces/IF-043.yaml",
        "versions.011.events.ConnectionTypeChange.blocks.B999",
        "unknown block B999",
    )


def test_unknown_role(data_copy: Path) -> None:
    _edit(data_copy / "interfaces" / "IF-043.yaml", "sender_roles: [REGS]", "sender_roles: [REGS, XYZ]")
    _fails(data_copy, "interfaces/IF-043.yaml", "sender_roles", "unknown role(s) XYZ")


def test_unknown_role_in_a_routing_target(data_copy: Path) -> None:
    _edit(data_copy / "interfaces" / "IF-021.yaml", "target: {role: ECS}", "target: {role: MDS}")
    _fails(data_copy, "interfaces/IF-021.yaml", "routing.1.target.role", "unknown role MDS")


def test_routing_rule_for_an_unknown_event(data_copy: Path) -> None:
    _edit(data_copy / "interfaces" / "IF-043.yaml", 'events: "*"', "events: [ConnectionTypeChnage]")
    _fails(data_copy, "interfaces/IF-043.yaml", "routing.0.events", "ConnectionTypeChnage")


def test_unquoted_version_is_refused(data_copy: Path) -> None:
    _edit(data_copy / "interfaces" / "IF-043.yaml", '"011":', "011:")
    _fails(data_copy, "interfaces/IF-043.yaml", "versions", "must be a string")


def test_unquoted_numeric_enum_value_is_refused(data_copy: Path) -> None:
    _edit(
        data_copy / "data_items.yaml",
        "enum: [A, '1', '2', '3', '4', '5', D]",
        "enum: [A, 1, '2', '3', '4', '5', D]",
    )
    _fails(data_copy, "data_items.yaml", "DI-150.enum.1", "quote it")


def test_misspelt_key_is_refused(data_copy: Path) -> None:
    _edit(
        data_copy / "blocks.yaml",
        "historyMAP: {block: B910, array: true, minItems: 1, required: false}",
        "historyMAP: {block: B910, array: true, minItems: 1, requried: false}",
    )
    _fails(data_copy, "blocks.yaml", "B907.fields.historyMAP", "unknown key(s) requried")


def test_invalid_yaml(data_copy: Path) -> None:
    (data_copy / "roles.yaml").write_text("SUP: [unclosed\n")
    _fails(data_copy, "roles.yaml", "not valid YAML")


def test_interface_file_named_for_another_interface(data_copy: Path) -> None:
    (data_copy / "interfaces" / "IF-043.yaml").rename(data_copy / "interfaces" / "IF-042.yaml")
    _fails(data_copy, "interfaces/IF-042.yaml", "id", "does not match the file name IF-042")


def test_bad_pattern(data_copy: Path) -> None:
    _edit(data_copy / "data_types.yaml", "pattern: '^[A-Z]{4}$'", "pattern: '^[A-Z{4}$'")
    _fails(data_copy, "data_types.yaml", "DT-027.pattern", "not a valid regular expression")


def test_closed_event_without_blocks(data_copy: Path) -> None:
    _edit(
        data_copy / "interfaces" / "IF-043.yaml",
        "        blocks:\n          B023: required\n",
        "        blocks: {}\n",
    )
    _fails(data_copy, "interfaces/IF-043.yaml", "ConnectionTypeChange", "custom_block: open")


def test_missing_file_and_directory(tmp_path: Path, data_copy: Path) -> None:
    _fails(tmp_path / "nowhere", "catalogue directory not found")
    (data_copy / "common.yaml").unlink()
    _fails(data_copy, "common.yaml", "file is missing")


def test_open_custom_block_accepts_any_object(data_copy: Path) -> None:
    _edit(
        data_copy / "interfaces" / "IF-043.yaml",
        "        blocks:\n          B023: required\n",
        "        custom_block: open\n",
    )
    catalogue = load_catalogue(data_copy)
    event = catalogue.event("IF-043", "011", "ConnectionTypeChange")
    assert event is not None and event.custom_block_open
    from .support import load_examples

    payload = next(p for i, _, p in load_examples() if i == "IF-043")
    assert catalogue.validate(payload, "IF-043") == []
    assert catalogue.validate({**payload, "CustomBlock": {"B777": {"anything": 1}}}, "IF-043") == []
    assert [i.rule for i in catalogue.validate({**payload, "CustomBlock": []}, "IF-043")] == ["type"]
