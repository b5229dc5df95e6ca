"""Each criterion kind judged over hand-made facts: met or not, with the reasons a steering group reads."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opendip.errors import DipError
from opendip.tracking.criteria import CaseRef, MemberFacts, Scope, parse, parse_list
from opendip.tracking.plan import load_plan
from tests.tracking.conftest import EXAMPLE_PLAN, ROOT

PLAN = [CaseRef("C-1", 1), CaseRef("C-2", 2), CaseRef("C-3", 3)]


def _scope(*statuses: dict[str, str], certificates: list[str] | None = None) -> Scope:
    members = [
        MemberFacts(f"P{i}", PLAN, found, (True, 0.0), certificates or ["valid"]) for i, found in enumerate(statuses)
    ]
    return Scope(members, [])


def test_each_kind_says_what_keeps_it_unmet() -> None:
    scope = _scope({"C-1": "passed", "C-2": "failed"}, {"C-1": "blocked"}, certificates=["expired", "revoked"])
    executed = parse({"kind": "cases_executed", "priority_at_most": 2}, "$").judge(scope)
    assert (executed.label, executed.met) == ("every priority 1-2 case run at least once", False)
    assert executed.reasons == ["P1: C-2 (priority 2) not run"]
    passed = parse({"kind": "cases_passed", "priority_at_most": 1}, "$").judge(scope)
    assert passed.reasons == ["P1: C-1 (priority 1) blocked"]
    assert parse({"kind": "pass_rate", "at_least": 10}, "$").judge(scope).met  # 1 of 6 passed: 16.7%
    certificates = parse({"kind": "certificates_valid"}, "$").judge(scope)
    assert certificates.reasons == [
        "P0: no valid certificate (expired, revoked)",
        "P1: no valid certificate (expired, revoked)",
    ]
    assert parse({"kind": "connectivity_proven"}, "$").judge(scope).met
    many = _scope(*[{} for _ in range(4)])
    shown = parse({"kind": "cases_passed"}, "$").judge(many).reasons
    assert len(shown) == 7 and shown[-1] == "and 6 more"  # 12 cases short; six named, then the count
    assert parse({"kind": "cases_passed"}, "$").judge(Scope([], [])).reasons == ["no participants in scope"]


def test_bad_criteria_are_refused_with_their_path() -> None:
    with pytest.raises(DipError) as typo:
        parse_list([{"kind": "pass_rate", "at_least": 90, "atleast": 1}], "$.exit")
    assert "$.exit[0].atleast: unknown key for pass_rate; allowed: at_least" in typo.value.detail
    with pytest.raises(DipError) as fraction:
        parse({"kind": "no_open_defects", "severity_at_most": 1.5}, "$.exit[1]")
    assert "$.exit[1].severity_at_most: a whole number" in fraction.value.detail
    with pytest.raises(DipError) as flag:
        parse({"kind": "cases_passed", "priority_at_most": True}, "$")
    assert "$.priority_at_most: a whole number" in flag.value.detail


def test_the_example_plan_loads_and_links_only_shipped_scenarios() -> None:
    plan = load_plan(EXAMPLE_PLAN.read_text(), "yaml")
    linked = {path for case in plan.cases for path in case.scenarios}
    assert linked and all((ROOT / path).is_file() for path in linked), sorted(
        p for p in linked if not (ROOT / p).exists()
    )
    assert {c.phase for c in plan.cases} <= {p.name for p in plan.phases}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
PLAN_KEYS = st.sampled_from(["phases", "cases", "cohorts", "name", "kind", "entry", "exit", "members", "starts"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(PLAN_KEYS, JSON, max_size=3) | JSON)
def test_any_plan_document_loads_or_is_refused_with_a_path(document: object) -> None:
    """Whatever a file or a request body holds, the answer is a plan or a DipError naming where: never a crash."""
    for text, fmt in ((json.dumps(document), "yaml"), (csv_of(document), "csv")):
        try:
            load_plan(text, fmt)
        except DipError as exc:
            assert exc.detail.startswith(("$", "row ")), exc.detail


def csv_of(document: object) -> str:
    rows = document if isinstance(document, list) else [document]
    return "id,title,phase,process,priority,roles\n" + "\n".join(
        ",".join(map(str, r)) if isinstance(r, list) else str(r) for r in rows
    )
