"""Cross-field rules: the senderUniqueReference agrees with S0/S1, and M0 follows mpan_based."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from opendip.catalogue import Catalogue, load_catalogue
from opendip.catalogue.rules import parse_reference

from .support import load_examples

IF043 = next(payload for interface_id, _, payload in load_examples() if interface_id == "IF-043")
SUR_PATH = "$.payload.CommonBlock.S1.senderUniqueReference"


def _with_reference(reference: str, **s1: Any) -> dict[str, Any]:
    payload = copy.deepcopy(IF043)
    payload["CommonBlock"]["S1"].update(senderUniqueReference=reference, **s1)
    return payload


@pytest.mark.parametrize(
    ("reference", "parsed"),
    [
        ("S-IF-043-1009012345-REGS-20261125-7f3k2m9q", ("IF-043", "1009012345")),
        ("S-REP-002A-1009012345-ECS-20261125-1", ("REP-002A", "1009012345")),
        ("S-043-1009012345-REGS-20261125-x", ("043", "1009012345")),
        ("S-IF-043-1009012345-REGS", None),
        ("T-IF-043-1009012345-REGS-20261125-x", None),
        ("", None),
    ],
)
def test_parse_reference(reference: str, parsed: tuple[str, str] | None) -> None:
    assert parse_reference(reference) == parsed


def test_reference_naming_another_interface_is_a_note_not_a_refusal(catalogue: Catalogue) -> None:
    payload = _with_reference("S-IF-044-1009012345-REGS-20261125-1")
    assert catalogue.validate(payload, "IF-043") == [], "the published schema checks only the reference's shape"
    (note,) = catalogue.reference_notes(payload, "IF-043")
    assert note.startswith(SUR_PATH) and "IF-044" in note and "IF-043" in note and "referenceInterface" in note


def test_reference_with_bare_interface_number(catalogue: Catalogue) -> None:
    assert catalogue.reference_notes(_with_reference("S-043-1009012345-REGS-20261125-1"), "IF-043") == []
    (note,) = catalogue.reference_notes(_with_reference("S-021-1009012345-REGS-20261125-1"), "IF-043")
    assert "referenceInterface" in note


def test_reference_carrying_another_dip_id_is_a_note(catalogue: Catalogue) -> None:
    payload = _with_reference("S-IF-043-1009012346-REGS-20261125-1")
    assert catalogue.validate(payload, "IF-043") == []
    (note,) = catalogue.reference_notes(payload, "IF-043")
    assert "1009012346" in note and "referenceSender" in note


def test_malformed_reference_is_reported_once_by_its_pattern(catalogue: Catalogue) -> None:
    issues = catalogue.validate(_with_reference("S-IF-044-xyz"), "IF-043")
    assert [(i.path, i.rule) for i in issues] == [(SUR_PATH, "pattern")]


def test_malformed_sender_is_not_compared_with_the_reference(catalogue: Catalogue) -> None:
    issues = catalogue.validate(
        _with_reference(IF043["CommonBlock"]["S1"]["senderUniqueReference"], senderDIPID="ABC"), "IF-043"
    )
    assert {i.rule for i in issues} == {"pattern", "minLength"}


def test_m0_missing_on_an_mpan_based_interface(catalogue: Catalogue) -> None:
    payload = copy.deepcopy(IF043)
    del payload["CommonBlock"]["M0"]
    (issue,) = catalogue.validate(payload, "IF-043")
    assert (issue.path, issue.rule) == ("$.payload.CommonBlock.M0", "required")


def test_m0_on_an_interface_that_is_not_mpan_based(data_copy: Any) -> None:
    path = data_copy / "interfaces" / "IF-043.yaml"
    path.write_text(path.read_text().replace("mpan_based: true", "mpan_based: false"))
    catalogue = load_catalogue(data_copy)
    assert catalogue.interfaces["IF-043"].mpan_based is False
    (issue,) = catalogue.validate(IF043, "IF-043")
    assert (issue.path, issue.rule) == ("$.payload.CommonBlock.M0", "additionalProperties")
    without_m0 = copy.deepcopy(IF043)
    del without_m0["CommonBlock"]["M0"]
    assert catalogue.validate(without_m0, "IF-043") == []


def test_response_block_presence_follows_the_interface(catalogue: Catalogue) -> None:
    if032 = next(p for i, _, p in load_examples() if i == "IF-032")
    without_r0 = copy.deepcopy(if032)
    del without_r0["CommonBlock"]["R0"]
    assert catalogue.validate(without_r0, "IF-032") == [], "R0 is optional on IF-032"
    with_r0 = copy.deepcopy(IF043)
    with_r0["CommonBlock"]["R0"] = {"responseCode": "A", "responseMessages": []}
    (issue,) = catalogue.validate(with_r0, "IF-043")
    assert (issue.path, issue.rule) == ("$.payload.CommonBlock.R0", "additionalProperties")
