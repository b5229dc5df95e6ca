"""The query side of the catalogue: interfaces, versions, events, schema export."""

from __future__ import annotations

import jsonschema_rs
import pytest

from opendip.catalogue import Catalogue

from .support import load_examples


def test_interface_lookup(catalogue: Catalogue) -> None:
    interface = catalogue.interface("IF-043")
    assert interface is not None
    assert interface.mpan_based and "REGS" in interface.sender_roles and "SUP" in interface.recipient_roles
    assert catalogue.interface("IF-999") is None


def test_versions_and_event_codes(catalogue: Catalogue) -> None:
    assert catalogue.versions("IF-043") == ("011",)
    assert catalogue.versions("IF-999") == ()
    assert catalogue.event_codes("IF-021") == ("ActivePower", "ReactivePower")
    assert len(catalogue.event_codes("IF-041")) == 10
    assert "SDS-MDRUpdate" in catalogue.event_codes("IF-034")
    assert catalogue.event_codes("IF-999") == ()


def test_schema_for_is_a_valid_json_schema_and_a_copy(catalogue: Catalogue) -> None:
    schema = catalogue.schema_for("IF-043", "011", "[ConnectionTypeChange]")
    assert jsonschema_rs.meta.is_valid(schema)
    assert schema["properties"]["CommonBlock"]["properties"]["S0"]["properties"]["eventCode"] == {
        "const": "[ConnectionTypeChange]"
    }
    assert set(schema["$defs"]) == {"S1", "A0", "D0", "M0", "B023"}
    schema["$defs"].clear()
    assert catalogue.schema_for("IF-043", "011", "ConnectionTypeChange")["$defs"], "export must not alias"
    payload = next(p for i, _, p in load_examples() if i == "IF-043")
    assert jsonschema_rs.validator_for(catalogue.schema_for("IF-043", "011", "ConnectionTypeChange")).is_valid(payload)


def test_schema_for_unknown_event(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError):
        catalogue.schema_for("IF-043", "011", "Nope")
    with pytest.raises(KeyError):
        catalogue.schema_for("IF-043", "012", "ConnectionTypeChange")


def test_nullable_fields_accept_null_and_mandatory_ones_do_not(catalogue: Catalogue) -> None:
    schema = catalogue.schema_for("IF-043", "011", "ConnectionTypeChange")
    s1 = schema["$defs"]["S1"]
    nullable = {key for key, spec in s1["properties"].items() if "null" in spec["type"]}
    assert nullable == {"subText", "senderCorrelationID", "DIPConnectionProviderID"}
    assert set(s1["required"]) == set(s1["properties"]), "every S1 key is required"
    assert s1["additionalProperties"] is False


def test_data_items_and_types_are_shared_definitions(catalogue: Catalogue) -> None:
    item = catalogue.data_items["DI-015"]
    assert item.name == "Connection Type Indicator"
    assert item.constraints.enum == ("W", "L", "H", "E", "U")
    assert catalogue.data_types["DT-003"].constraints.min_length == 25
    assert catalogue.blocks["B023"].fields["connectionTypeIndicator"].item == "DI-015"


def test_required_blocks_and_fields_follow_the_document(catalogue: Catalogue) -> None:
    def custom(interface_id: str, event: str) -> dict:
        schema = catalogue.schema_for(interface_id, "011", event)
        return schema["properties"]["CustomBlock"]

    assert set(custom("IF-044", "MarketSegmentChange")["required"]) == {"B026", "B023"}
    assert custom("IF-041", "ReadingRemote")["required"] == []
    assert custom("IF-041", "ReadingRemote")["properties"]["B065List"]["maxItems"] == 48
    assert set(custom("IF-021", "ActivePower")["required"]) == {"B044", "B067", "B900"}
    assert set(custom("IF-037", "MSDeApp")["required"]) == {"B008"}
    b023 = catalogue.schema_for("IF-043", "011", "ConnectionTypeChange")["$defs"]["B023"]
    assert set(b023["required"]) == {
        "connectionTypeIndicator",
        "connectionTypeEffectiveFromDate",
        "energyDirection",
        "meteredIndicator",
    }
    common = catalogue.schema_for("IF-032", "011", "MSAppInitialResp")["properties"]["CommonBlock"]
    assert common["required"] == ["S0", "S1", "M0"] and "R0" in common["properties"]
