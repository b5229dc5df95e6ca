"""Change requests on a real database: moves by the right roles only, history in the audit log, deadlines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from opendip.core.audit import Actor
from opendip.errors import DipError, Msg
from opendip.governance.classification import Assessment
from opendip.governance.service import ChangeRequestService
from tests.governance.support import ALICE, BOB, HAPPY_PATH, Clock


def refused(call: Callable[..., object], msg: Msg, *args: object) -> str:
    with pytest.raises(DipError) as caught:
        call(*args)
    assert caught.value.msg is msg, caught.value.detail
    return caught.value.detail


def raise_one(requests: ChangeRequestService, title: str = "Add an optional field to IF-043") -> str:
    return str(requests.raise_request(BOB, "participant", title=title, description="why and what")["ref"])


def test_walks_the_whole_process_refusing_every_wrong_step(requests: ChangeRequestService) -> None:
    ref = raise_one(requests)
    assert ref == "CR-0001"
    for target, role in HAPPY_PATH:
        current = requests.get(ref)
        allowed = {n["state"] for n in current["next"]}
        assert target in allowed
        wrong_state = next(s for s in requests.process.states if s not in allowed and s != current["state"])
        detail = refused(requests.move, Msg.CHANGE_NOT_ALLOWED, ALICE, role, ref, wrong_state)
        assert f"{ref} is {current['state']}: from {current['state']} it may move to" in detail
        movers = next(n["by"] for n in current["next"] if n["state"] == target)
        for wrong_role in (r for r in requests.process.roles if r not in movers):
            detail = refused(requests.move, Msg.PERMISSION_DENIED, ALICE, wrong_role, ref, target)
            assert f"you act as {wrong_role}" in detail
        if target == "classified":
            detail = refused(requests.move, Msg.CHANGE_NOT_ALLOWED, ALICE, role, ref, target)
            assert "no classification yet" in detail
            requests.classify(ALICE, "dip_manager", ref, Assessment(cost_users_gbp=1000))
        moved = requests.move(ALICE, role, ref, target, note=f"moved to {target}")
        assert moved["state"] == target
    final = requests.get(ref)
    assert final["next"] == []
    refused(lambda: requests.move(ALICE, "dip_manager", ref, "withdrawn"), Msg.CHANGE_NOT_ALLOWED)
    moves = [h for h in final["history"] if h["action"] == "cr.move" and h["outcome"] == "ok"]
    assert [h["detail"]["to"] for h in moves] == [target for target, _ in HAPPY_PATH]
    refusals = [h for h in final["history"] if h["outcome"] == "refused"]
    assert len(refusals) >= 2 * len(HAPPY_PATH)
    assert final["history"][0]["action"] == "cr.raise"
    assert {"cr.classify", "cr.raise", "cr.move"} <= {h["action"] for h in final["history"]}


def test_tier_one_is_decided_by_the_authority(requests: ChangeRequestService) -> None:
    ref = raise_one(requests)
    for target, role in HAPPY_PATH[:2]:
        requests.move(ALICE, role, ref, target)
    classified = requests.classify(ALICE, "dip_manager", ref, Assessment(cost_dip_manager_gbp=750_000))
    assert classified["classification"] == "tier_1"
    assert any("over GBP 500,000" in r for r in classified["classification_reasons"])
    for target, role in HAPPY_PATH[2:5]:
        requests.move(ALICE, role, ref, target)
    detail = refused(lambda: requests.move(ALICE, "dcab", ref, "approved"), Msg.PERMISSION_DENIED)
    assert "only The Authority (Ofgem) (authority) may move CR-0001 to approved for a tier_1 change" in detail
    assert requests.move(ALICE, "authority", ref, "rejected")["state"] == "rejected"


def test_classification_only_after_impact_assessment(requests: ChangeRequestService) -> None:
    ref = raise_one(requests)
    detail = refused(lambda: requests.classify(ALICE, "dip_manager", ref, Assessment()), Msg.CHANGE_NOT_ALLOWED)
    assert "after its impact assessment" in detail
    requests.move(ALICE, "dip_manager", ref, "validated")
    requests.move(ALICE, "dip_manager", ref, "impact_assessed")
    refused(lambda: requests.classify(ALICE, "service_provider", ref, Assessment()), Msg.PERMISSION_DENIED)


def test_only_the_proposer_who_raised_it_may_withdraw_as_proposer(requests: ChangeRequestService) -> None:
    ref = raise_one(requests)
    other = Actor("user:carol", "test", "message_admin", "other")
    detail = refused(lambda: requests.move(other, "proposer", ref, "withdrawn"), Msg.PERMISSION_DENIED)
    assert "only user:bob, who raised CR-0001" in detail
    assert requests.move(BOB, "proposer", ref, "withdrawn")["state"] == "withdrawn"


def test_comments_and_attachments_are_kept_and_audited(requests: ChangeRequestService) -> None:
    ref = raise_one(requests)
    requests.comment(ALICE, "dcab", ref, "DCAB would like the impact on IF-043 senders")
    shown = requests.attach(BOB, "participant", ref, name="impact.csv", content=b"a,b\n1,2\n", content_type="text/csv")
    comment, attached = shown["notes"]
    assert comment["text"].startswith("DCAB would like")
    assert (attached["file_name"], attached["size"]) == ("impact.csv", 8)
    assert requests.attachment(ref, attached["id"])["content"] == b"a,b\n1,2\n"
    assert [h["action"] for h in shown["history"]] == ["cr.raise", "cr.comment", "cr.attach"]
    refused(lambda: requests.comment(ALICE, "dcab", ref, "  "), Msg.SCHEMA_FAILURE)
    refused(lambda: requests.attach(ALICE, "dcab", ref, name="../x", content=b"", content_type="x"), Msg.SCHEMA_FAILURE)
    refused(lambda: requests.get("CR-9999"), Msg.NOT_FOUND)


def test_overdue_steps_in_working_days(requests: ChangeRequestService, clock: Clock) -> None:
    ref = raise_one(requests)  # Monday 14 December 2026; raised may last 5 working days
    assert requests.get(ref)["due_date"] == "2026-12-21"
    clock.set(dt.date(2026, 12, 21), hour=23)
    assert requests.overdue() == []
    clock.set(dt.date(2026, 12, 22), hour=0)
    assert [cr["ref"] for cr in requests.overdue()] == [ref]
    assert requests.get(ref)["overdue"] == ["step"]
    moved = requests.move(ALICE, "dip_manager", ref, "validated")  # 10 working days over Christmas
    assert moved["overdue"] == []
    assert moved["due_date"] == "2027-01-08"


def test_approval_sets_the_implementation_date_five_working_days_on(
    requests: ChangeRequestService, clock: Clock
) -> None:
    ref = raise_one(requests)
    for target, role in HAPPY_PATH[:2]:
        requests.move(ALICE, role, ref, target)
    requests.classify(ALICE, "dip_manager", ref, Assessment())
    for target, role in HAPPY_PATH[2:5]:
        requests.move(ALICE, role, ref, target)
    clock.set(dt.date(2026, 12, 24))
    approved = requests.move(ALICE, "dcab", ref, "approved")
    assert (approved["decision_date"], approved["implementation_date"]) == ("2026-12-24", "2027-01-05")
    clock.set(dt.date(2027, 1, 6))
    assert "implementation" in requests.get(ref)["overdue"]
