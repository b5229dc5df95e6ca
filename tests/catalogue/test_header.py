"""S0 decides which schema applies, so its faults get their own DIP codes and stop validation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from opendip.catalogue import Catalogue
from opendip.errors import Msg

from .support import load_examples

IF043 = next(payload for interface_id, _, payload in load_examples() if interface_id == "IF-043")


def _with_s0(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(IF043)
    payload["CommonBlock"]["S0"].update(changes)
    return payload


def test_interface_mismatch(catalogue: Catalogue) -> None:
    (issue,) = catalogue.validate(IF043, "IF-044", path_prefix="$[3].payload")
    assert issue.msg is Msg.INTERFACE_MISMATCH
    assert issue.path == "$[3].payload.CommonBlock.S0.interfaceID"
    assert "IF-044" in issue.text and "IF-043" in issue.text


def test_unknown_channel(catalogue: Catalogue) -> None:
    (issue,) = catalogue.validate(_with_s0(interfaceID="IF-099"), "IF-099")
    assert issue.msg is Msg.UNKNOWN_CHANNEL
    assert issue.path == "$.payload.CommonBlock.S0.interfaceID"


@pytest.mark.parametrize("code", ["[MarketSegmentChange]", "ConnectionTypeChange", "[connectiontypechange]", 7, None])
def test_unknown_event_code(catalogue: Catalogue, code: Any) -> None:
    (issue,) = catalogue.validate(_with_s0(eventCode=code), "IF-043")
    assert issue.msg is Msg.UNKNOWN_EVENT_CODE
    assert issue.path == "$.payload.CommonBlock.S0.eventCode"
    assert "[ConnectionTypeChange]" in issue.text


@pytest.mark.parametrize("version", ["010", "11", 11, "999", None])
def test_unsupported_version(catalogue: Catalogue, version: Any) -> None:
    (issue,) = catalogue.validate(_with_s0(schemaVersion=version), "IF-043")
    assert issue.msg is Msg.UNSUPPORTED_VERSION
    assert issue.path == "$.payload.CommonBlock.S0.schemaVersion"
    assert "011" in issue.text


def test_checks_run_in_order_interface_then_event_then_version(catalogue: Catalogue) -> None:
    everything_wrong = _with_s0(interfaceID="IF-044", eventCode="[Nope]", schemaVersion="000")
    assert [i.msg for i in catalogue.validate(everything_wrong, "IF-043")] == [Msg.INTERFACE_MISMATCH]
    event_and_version = _with_s0(eventCode="[Nope]", schemaVersion="000")
    assert [i.msg for i in catalogue.validate(event_and_version, "IF-043")] == [Msg.UNKNOWN_EVENT_CODE]


@pytest.mark.parametrize("key", ["interfaceID", "eventCode", "schemaVersion"])
def test_missing_s0_key_is_a_schema_failure_at_that_key(catalogue: Catalogue, key: str) -> None:
    payload = copy.deepcopy(IF043)
    del payload["CommonBlock"]["S0"][key]
    (issue,) = catalogue.validate(payload, "IF-043")
    assert (issue.msg, issue.rule, issue.path) == (
        Msg.INTERFACE_MISMATCH if key == "interfaceID" else Msg.SCHEMA_FAILURE,
        "required",
        f"$.payload.CommonBlock.S0.{key}",
    )


@pytest.mark.parametrize(
    ("payload", "path", "rule"),
    [
        ([], "$.payload", "type"),
        ("text", "$.payload", "type"),
        ({}, "$.payload.CommonBlock", "required"),
        ({"CommonBlock": []}, "$.payload.CommonBlock", "type"),
        ({"CommonBlock": {}}, "$.payload.CommonBlock.S0", "required"),
        ({"CommonBlock": {"S0": None}}, "$.payload.CommonBlock.S0", "type"),
    ],
)
def test_payload_shape_faults(catalogue: Catalogue, payload: Any, path: str, rule: str) -> None:
    (issue,) = catalogue.validate(payload, "IF-043")
    assert (issue.msg, issue.path, issue.rule) == (Msg.SCHEMA_FAILURE, path, rule)


def test_every_error_is_reported_not_just_the_first(catalogue: Catalogue) -> None:
    payload = copy.deepcopy(IF043)
    s1 = payload["CommonBlock"]["S1"]
    s1["senderDIPID"] = "ABC"
    del s1["subText"]
    s1["colour"] = "blue"
    payload["CommonBlock"]["M0"]["GSPGroupID"] = "_Z"
    payload["CustomBlock"]["B023"]["meteredIndicator"] = "yes"
    issues = catalogue.validate(payload, "IF-043", path_prefix="$[0].payload")
    got = {(issue.path.removeprefix("$[0].payload."), issue.rule) for issue in issues}
    assert {
        ("CommonBlock.S1.senderDIPID", "pattern"),
        ("CommonBlock.S1.senderDIPID", "minLength"),
        ("CommonBlock.S1.subText", "required"),
        ("CommonBlock.S1.colour", "additionalProperties"),
        ("CommonBlock.M0.GSPGroupID", "enum"),
        ("CustomBlock.B023.meteredIndicator", "type"),
    } <= got
    sender = "$[0].payload.CommonBlock.S1.senderDIPID"
    assert all(issue.msg is Msg.SCHEMA_FAILURE for issue in issues if issue.path != sender)
    assert {issue.msg for issue in issues if issue.path == sender} == {Msg.SENDER_DIP_ID_INVALID}
    texts = {issue.path.rsplit(".", 1)[-1]: issue.text for issue in issues if issue.rule != "minLength"}
    assert texts["senderDIPID"] == "senderDIPID must match ^[0-9]{10}$; got 'ABC'"
    assert texts["meteredIndicator"] == "meteredIndicator must be boolean; got 'yes'"
    assert "_Z" in texts["GSPGroupID"] and "'_K'" in texts["GSPGroupID"]


def test_list_items_are_addressed_by_index(catalogue: Catalogue) -> None:
    payload = next(p for i, _, p in load_examples() if i == "IF-021")
    payload = copy.deepcopy(payload)
    periods = payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]["consumptionPeriods"]
    periods[5]["v"] = "1.5"
    (issue,) = catalogue.validate(payload, "IF-021")
    assert issue.path == "$.payload.CustomBlock.B900.settlementDayConsumptionPeriods[0].consumptionPeriods[5].v"
    assert issue.text.startswith("consumptionPeriods[5].v must match")


def test_too_many_periods_is_a_max_items_failure(catalogue: Catalogue) -> None:
    payload = copy.deepcopy(next(p for i, _, p in load_examples() if i == "IF-021"))
    day = payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]
    day["consumptionPeriods"].append(day["consumptionPeriods"][0])
    (issue,) = catalogue.validate(payload, "IF-021")
    assert (issue.rule, issue.path) == (
        "maxItems",
        "$.payload.CustomBlock.B900.settlementDayConsumptionPeriods[0].consumptionPeriods",
    )
