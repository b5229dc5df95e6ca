"""Routing rules load from the interface files and filter by event code."""

from __future__ import annotations

from pathlib import Path

from opendip.catalogue import Catalogue, RoutingRule, load_catalogue


def test_if021_copies_the_distributor_and_the_settlement_service(catalogue: Catalogue) -> None:
    rules = catalogue.routing("IF-021", "ActivePower")
    assert [(r.kind, r.target_kind, r.target_value) for r in rules] == [
        ("secondary", "mpan_distributor", None),
        ("always", "role", "ECS"),
    ]
    assert rules == catalogue.routing("IF-021", "[ReactivePower]")
    assert all(rule.events is None for rule in rules)


def test_routing_of_unknown_interface_is_empty(catalogue: Catalogue) -> None:
    assert catalogue.routing("IF-999", "Anything") == ()
    assert catalogue.routing("IF-031", "MSApp") == ()


def test_every_catalogued_interface_routing_rule_is_well_formed(catalogue: Catalogue) -> None:
    for interface in catalogue.interfaces.values():
        for rule in interface.routing:
            assert isinstance(rule, RoutingRule)
            assert rule.kind in ("secondary", "always")
            if rule.target_kind == "role":
                assert rule.target_value in catalogue.roles
            if rule.target_kind == "mpan_distributor":
                assert interface.mpan_based and rule.target_value is None


def test_event_filter_and_dip_id_targets(data_copy: Path) -> None:
    path = data_copy / "interfaces" / "IF-021.yaml"
    path.write_text(
        path.read_text() + '  - kind: always\n    events: [ReactivePower]\n    target: {dip_id: "1999999999"}\n'
    )
    catalogue = load_catalogue(data_copy)
    active = catalogue.routing("IF-021", "ActivePower")
    reactive = catalogue.routing("IF-021", "ReactivePower")
    assert len(active) == 2 and len(reactive) == 3
    extra = reactive[-1]
    assert (extra.kind, extra.events, extra.target_kind, extra.target_value) == (
        "always",
        frozenset({"ReactivePower"}),
        "dip_id",
        "1999999999",
    )
