"""The change process table: every illegal move and every wrong role refused, naming what is allowed."""

from __future__ import annotations

import pytest

from opendip.governance.classification import KINDS, Assessment, classify
from opendip.governance.process import MoveRefused, load_process, parse_process

PROCESS = load_process()


@pytest.mark.parametrize("current", list(PROCESS.states))
def test_every_illegal_move_is_refused_naming_the_allowed_ones(current: str) -> None:
    allowed = {s.name for s in PROCESS.next_states(current)}
    for target in PROCESS.states:
        if target in allowed:
            continue
        with pytest.raises(MoveRefused) as refused:
            PROCESS.check_move("CR-0001", current, target, "dip_manager", "tier_2")
        assert not refused.value.wrong_role
        assert f"from {current} it may move to" in refused.value.text
        for name in allowed:
            assert name in refused.value.text
        if not allowed:
            assert "nothing (it is closed)" in refused.value.text


@pytest.mark.parametrize("kind", KINDS)
def test_each_legal_move_only_by_the_roles_the_raci_names(kind: str) -> None:
    for state in PROCESS.states.values():
        for source in state.sources:
            movers = set(state.movers(kind))
            assert movers, f"nobody may move to {state.name}"
            for role in PROCESS.roles:
                if role in movers:
                    assert PROCESS.check_move("CR-0001", source, state.name, role, kind) is state
                    continue
                with pytest.raises(MoveRefused) as refused:
                    PROCESS.check_move("CR-0001", source, state.name, role, kind)
                assert refused.value.wrong_role
                assert f"you act as {role}" in refused.value.text
                assert all(m in refused.value.text for m in movers)


def test_decision_maker_follows_the_class() -> None:
    approved = PROCESS.state("approved")
    assert approved.movers("tier_1") == ("authority",)
    assert approved.movers("tier_2") == ("dcab",)
    assert approved.movers("message_definition") == ("dcab",)
    assert approved.movers("system_only") == ("dip_manager",)
    with pytest.raises(MoveRefused, match="classify it before"):
        PROCESS.check_move("CR-0001", "consulted", "approved", "dcab", None)


def test_unknown_role_and_state_are_named() -> None:
    with pytest.raises(MoveRefused, match="unknown role 'ceo'; roles: proposer"):
        PROCESS.check_move("CR-0001", "raised", "validated", "ceo", None)
    with pytest.raises(MoveRefused, match="unknown state 'done'"):
        PROCESS.check_move("CR-0001", "raised", "done", "dip_manager", None)


def test_a_typo_in_the_process_data_is_refused() -> None:
    raw = {
        "roles": {"proposer": "Proposer", "dip_manager": "DIP Manager"},
        "states": {"raised": {"label": "R", "step": "raise", "from": [], "raci": {"proposer": "R"}}},
    }
    with pytest.raises(ValueError, match="for each role"):
        parse_process(raw)
    raw["states"]["raised"]["raci"] = {"proposer": "R", "dip_manager": "X"}
    with pytest.raises(ValueError, match="for each role"):
        parse_process(raw)
    raw["states"]["raised"]["raci"] = {"proposer": "R", "dip_manager": "C"}
    raw["states"]["raised"]["from"] = ["nowhere"]
    with pytest.raises(ValueError, match="unknown state nowhere"):
        parse_process(raw)


@pytest.mark.parametrize(
    ("found", "kind", "reason"),
    [
        (Assessment(cost_dip_manager_gbp=500_000), "tier_2", "not material"),
        (Assessment(cost_dip_manager_gbp=500_001), "tier_1", "costs the DIP Manager GBP 500,001, over GBP 500,000"),
        (Assessment(cost_users_gbp=250_000.5), "tier_1", "costs users GBP 250,000.50, over GBP 250,000"),
        (Assessment(cost_users_gbp=250_000), "tier_2", "affects parties"),
        (Assessment(new_obligations=True), "tier_1", "new obligations"),
        (Assessment(duration_months=25), "tier_1", "takes 25 months, over 24"),
        (Assessment(duration_months=24), "tier_2", "24 months"),
        (Assessment(affects_parties=False), "system_only", "only the DIP's own systems"),
        (Assessment(changes_message_definitions=True), "message_definition", "catalogue release must be linked"),
        (
            Assessment(changes_message_definitions=True, new_obligations=True),
            "tier_1",
            "catalogue release must be linked",
        ),
    ],
)
def test_classification_by_the_thresholds(found: Assessment, kind: str, reason: str) -> None:
    result = classify(found)
    assert result.kind == kind
    assert any(reason in line for line in result.reasons), result.reasons
    assert result.material is (kind == "tier_1")
    assert result.message_definition_change is found.changes_message_definitions
