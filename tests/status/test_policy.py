"""The status policy file: read strictly, defaults sensible, rules applied as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendip.catalogue.policy import DuplicateAction, PolicyError, StatusRule, load_policy


def test_the_built_in_policy_flags_duplicates_and_watches_appointments() -> None:
    policy = load_policy()
    assert policy.duplicates.action("IF-021") is DuplicateAction.FLAG
    assert [(r.request, r.response) for r in policy.expectations.responses] == [("IF-031", "IF-032")]
    assert policy.expectations.status_messages == ()


def test_an_operator_file_overrides_per_interface(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("duplicates: {default: off, interfaces: {IF-021: reject}}\n")
    policy = load_policy(path)
    assert policy.duplicates.action("IF-021") is DuplicateAction.REJECT
    assert policy.duplicates.action("IF-043") is DuplicateAction.OFF


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("duplicates: {windw_seconds: 5}\n", "duplicates.windw_seconds"),
        ("duplicates: {default: maybe}\n", "duplicates.default"),
        ("duplicates: {interfaces: {IF21: reject}}\n", "duplicates.interfaces"),
        ("expectations: {responses: [{request: IF-031, response: IF-032, within_seconds: 0}]}\n", "within_seconds"),
        ("expectations: {status_messages: [{recipient: someone, within_seconds: 5}]}\n", "recipient"),
        ("[not, a, mapping]\n", "policy"),
    ],
)
def test_a_bad_file_stops_start_up_naming_the_key(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)
    assert names in str(caught.value) or names == "policy"


def test_status_rules_match_by_id_role_or_wildcard_and_interface() -> None:
    by_id = StatusRule(recipient="2300000900", interfaces=("IF-043",), within_seconds=5)
    assert by_id.applies_to("2300000900", "SUP", "IF-043")
    assert not by_id.applies_to("2300000900", "SUP", "IF-044")
    assert not by_id.applies_to("2300000901", "SUP", "IF-043")
    by_role = StatusRule(recipient="role:LDSO", within_seconds=5)
    assert by_role.applies_to("1100000001", "LDSO", "IF-021") and not by_role.applies_to("1", "SUP", "IF-021")
    assert StatusRule(recipient="*", within_seconds=5).applies_to("any", None, "REP-002A")
