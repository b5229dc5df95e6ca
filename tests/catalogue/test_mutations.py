"""Break one thing in a valid message; the validator must name exactly that field.

Valid messages come from the hand-written examples and from a built payload (with
every optional part) for every catalogued event. Hypothesis picks the message,
the kind of damage and where to do it; the schema walker finds the places where
each kind of damage is possible (required keys, closed objects, patterns, enums,
25-character date-times).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendip.catalogue import load_catalogue
from opendip.catalogue.issues import code_for_path
from opendip.errors import Msg

from .support import PayloadBuilder, expected_path, load_examples, mutated, walk

CATALOGUE = load_catalogue()
PREFIX = "$[0].payload"
_builder = PayloadBuilder(CATALOGUE)
MESSAGES: list[tuple[str, dict[str, Any]]] = [(interface_id, payload) for interface_id, _, payload in load_examples()]
MESSAGES += [(i.id, _builder.payload(i, v, e, full=True)) for i, v, e in _builder.every_event()]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Parts = tuple[str | int, ...]


@cache
def places(index: int) -> dict[str, list[Parts]]:
    """Where each kind of damage can be done to message `index`."""
    interface_id, payload = MESSAGES[index]
    s0 = payload["CommonBlock"]["S0"]
    schema = CATALOGUE.schema_for(interface_id, s0["schemaVersion"], s0["eventCode"])
    found: dict[str, list[Parts]] = {"required": [], "closed": [], "pattern": [], "enum": [], "datetime": []}
    for parts, value, node in walk(payload, schema, schema["$defs"]):
        if isinstance(value, dict):
            found["required"] += [(*parts, key) for key in node.get("required", []) if key in value]
            # Every object in a DIP message is closed (dip-facts s3), whatever the schema says,
            # except a CustomBlock the published document does not give (custom block: open).
            if node.get("additionalProperties") is False or "properties" in node:
                found["closed"].append(parts)
        if "pattern" in node and parts[:2] != ("CommonBlock", "S0"):  # S0 faults have their own codes
            found["pattern"].append(parts)
        if "enum" in node:
            found["enum"].append(parts)
        if node.get("minLength") == 25 and node.get("maxLength") == 25:
            found["datetime"].append(parts)
    return found


def _issues_at(payload: dict[str, Any], interface_id: str, parts: Parts) -> list[tuple[str, Msg]]:
    """(rule, code) of each issue at the damaged place; the code is rewritten to "as published for the field"."""
    path = expected_path(PREFIX, parts)
    issues = CATALOGUE.validate(payload, interface_id, path_prefix=PREFIX)
    assert issues, "the damaged message was accepted"
    published = code_for_path(path)
    assert all(issue.msg is published for issue in issues if issue.path == path), issues
    return [(issue.rule, Msg.SCHEMA_FAILURE) for issue in issues if issue.path == path]


def _draw(data: st.DataObject, kind: str) -> tuple[str, dict[str, Any], Parts]:
    index = data.draw(st.integers(0, len(MESSAGES) - 1), label="message")
    candidates = places(index)[kind]
    interface_id, payload = MESSAGES[index]
    assert candidates, f"no place for {kind} damage in message {index}"
    return interface_id, payload, data.draw(st.sampled_from(candidates), label="where")


@SETTINGS
@given(data=st.data())
def test_dropping_a_required_key_is_reported_at_that_key(data: st.DataObject) -> None:
    interface_id, payload, parts = _draw(data, "required")
    damaged = mutated(payload, parts, "delete")
    found = _issues_at(damaged, interface_id, parts)
    assert ("required", Msg.SCHEMA_FAILURE) in found, found


@SETTINGS
@given(data=st.data())
def test_an_unknown_key_is_reported_at_that_key(data: st.DataObject) -> None:
    interface_id, payload, parts = _draw(data, "closed")
    key = data.draw(st.sampled_from(["zzUnexpected", "B999", "extra_field", "senderdipid"]), label="key")
    target = (*parts, key)
    damaged = mutated(payload, target, "set", "surplus")
    found = _issues_at(damaged, interface_id, target)
    assert ("additionalProperties", Msg.SCHEMA_FAILURE) in found, found


@SETTINGS
@given(data=st.data())
def test_a_broken_pattern_is_reported_at_that_field(data: st.DataObject) -> None:
    interface_id, payload, parts = _draw(data, "pattern")
    bad = data.draw(st.sampled_from(["#bad#", "12 34", "abcdefghij", "1.5"]), label="bad")
    damaged = mutated(payload, parts, "set", bad)
    found = _issues_at(damaged, interface_id, parts)
    assert ("pattern", Msg.SCHEMA_FAILURE) in found, found


@SETTINGS
@given(data=st.data())
def test_a_value_outside_the_enum_is_reported_at_that_field(data: st.DataObject) -> None:
    interface_id, payload, parts = _draw(data, "enum")
    bad = data.draw(st.sampled_from(["?", "NOT-A-CODE", "zz", "_Q"]), label="bad")
    damaged = mutated(payload, parts, "set", bad)
    found = _issues_at(damaged, interface_id, parts)
    assert ("enum", Msg.SCHEMA_FAILURE) in found, found


@SETTINGS
@given(data=st.data())
def test_a_wrong_length_date_time_is_reported_at_that_field(data: st.DataObject) -> None:
    interface_id, payload, parts = _draw(data, "datetime")
    bad = data.draw(
        st.sampled_from(["2026-11-24T00:00:00+00:0", "2026-11-24T00:00:00Z", "2026-11-24T00:00:00.000+00:00"]),
        label="bad",
    )
    damaged = mutated(payload, parts, "set", bad)
    found = _issues_at(damaged, interface_id, parts)
    assert {"minLength", "maxLength"} & {rule for rule, _ in found}, found
