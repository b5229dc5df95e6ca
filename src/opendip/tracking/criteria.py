"""Entry and exit criteria as data: each kind reads the tracked facts and says met or not, and why.

A phase keeps its criteria as a list such as
`[{kind: cases_passed, priority_at_most: 1}, {kind: no_open_defects, severity_at_most: 2},
{kind: pass_rate, at_least: 95}]`. A criterion is judged over a scope: one
participant, or a whole cohort (met only when met for every member; the pass
rate of a cohort is over all its members' planned cases together). The
reasons name the participants and cases that keep a criterion from being met.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opendip.errors import DipError, Msg

STATUSES = ("passed", "failed", "blocked", "not run")
MAX_REASONS = 6


@dataclass(frozen=True)
class CaseRef:
    case_id: str
    priority: int


@dataclass
class MemberFacts:
    """What the tracker knows of one participant in one cohort."""

    dip_id: str
    plan: list[CaseRef]
    statuses: dict[str, str]
    proving: tuple[bool, float] | None = None  # the newest connectivity proving: passed, when
    certificates: list[str] = field(default_factory=list)  # each registered certificate's state now

    def status(self, case_id: str) -> str:
        return self.statuses.get(case_id, "not run")


@dataclass
class Scope:
    members: list[MemberFacts]
    open_defects: list[dict[str, Any]]


@dataclass(frozen=True)
class Verdict:
    kind: str
    label: str
    met: bool
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "met": self.met, "reasons": self.reasons}


@dataclass(frozen=True)
class Criterion:
    kind: str
    params: dict[str, Any]

    @property
    def label(self) -> str:
        return KINDS[self.kind].label(self.params)

    def judge(self, scope: Scope) -> Verdict:
        reasons = KINDS[self.kind].judge(self.params, scope)
        shown = reasons[:MAX_REASONS] + (
            [f"and {len(reasons) - MAX_REASONS} more"] if len(reasons) > MAX_REASONS else []
        )
        return Verdict(self.kind, self.label, not reasons, shown)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}


def _limit(params: dict[str, Any], key: str, default: int) -> int:
    return int(params.get(key, default))


def _planned_cases(params: dict[str, Any], scope: Scope, *, short_of: str) -> list[str]:
    """Each planned case of the priority named whose status is not yet good enough (`short_of` the mark)."""
    most = _limit(params, "priority_at_most", 3)
    missing = [
        f"{m.dip_id}: {c.case_id} (priority {c.priority}) {m.status(c.case_id)}"
        for m in scope.members
        for c in m.plan
        if c.priority <= most
        and (m.status(c.case_id) != "passed" if short_of == "passed" else m.status(c.case_id) == "not run")
    ]
    return missing or ([] if scope.members else ["no participants in scope"])


def _cases_passed(params: dict[str, Any], scope: Scope) -> list[str]:
    return _planned_cases(params, scope, short_of="passed")


def _cases_executed(params: dict[str, Any], scope: Scope) -> list[str]:
    return _planned_cases(params, scope, short_of="run")


def pass_rate(members: list[MemberFacts]) -> tuple[int, int]:
    planned = sum(len(m.plan) for m in members)
    passed = sum(1 for m in members for c in m.plan if m.status(c.case_id) == "passed")
    return passed, planned


def _pass_rate(params: dict[str, Any], scope: Scope) -> list[str]:
    at_least = float(params["at_least"])
    passed, planned = pass_rate(scope.members)
    rate = 100.0 * passed / planned if planned else 0.0
    if planned and rate >= at_least:
        return []
    return [f"pass rate {rate:.1f}% ({passed} of {planned} planned cases passed); needs {at_least:g}%"]


def _no_open_defects(params: dict[str, Any], scope: Scope) -> list[str]:
    most = _limit(params, "severity_at_most", 4)
    return [
        f"{d['ref']} severity {d['severity']} {d['state']}: {d['title']}"
        for d in scope.open_defects
        if d["severity"] <= most
    ]


def _connectivity_proven(params: dict[str, Any], scope: Scope) -> list[str]:
    reasons = []
    for m in scope.members:
        if m.proving is None:
            reasons.append(f"{m.dip_id}: connectivity never proven (opendip prove {m.dip_id})")
        elif not m.proving[0]:
            reasons.append(f"{m.dip_id}: its latest connectivity proving failed")
    return reasons


def _certificates_valid(params: dict[str, Any], scope: Scope) -> list[str]:
    return [
        f"{m.dip_id}: no valid certificate ({', '.join(m.certificates) or 'none registered'})"
        for m in scope.members
        if "valid" not in m.certificates
    ]


@dataclass(frozen=True)
class Kind:
    label: Callable[[dict[str, Any]], str]
    judge: Callable[[dict[str, Any], Scope], list[str]]
    params: dict[str, tuple[type, float, float]]  # name: (type, lowest, highest)
    required: frozenset[str] = frozenset()


def _priority_words(params: dict[str, Any], what: str) -> str:
    most = _limit(params, "priority_at_most", 3)
    return f"every priority-{most} case {what}" if most == 1 else f"every priority 1-{most} case {what}"


KINDS: dict[str, Kind] = {
    "cases_passed": Kind(lambda p: _priority_words(p, "passed"), _cases_passed, {"priority_at_most": (int, 1, 3)}),
    "cases_executed": Kind(
        lambda p: _priority_words(p, "run at least once"), _cases_executed, {"priority_at_most": (int, 1, 3)}
    ),
    "pass_rate": Kind(
        lambda p: f"pass rate >= {float(p['at_least']):g}%",
        _pass_rate,
        {"at_least": (float, 0, 100)},
        frozenset({"at_least"}),
    ),
    "no_open_defects": Kind(
        lambda p: (
            f"no open severity 1-{_limit(p, 'severity_at_most', 4)} defect"
            if _limit(p, "severity_at_most", 4) > 1
            else "no open severity-1 defect"
        ),
        _no_open_defects,
        {"severity_at_most": (int, 1, 4)},
    ),
    "connectivity_proven": Kind(lambda p: "connectivity proven", _connectivity_proven, {}),
    "certificates_valid": Kind(lambda p: "a valid certificate registered", _certificates_valid, {}),
}


def parse(raw: Any, where: str) -> Criterion:
    """One criterion from a plan file or an API body; refused with the JSON path and the rule."""
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise DipError(Msg.SCHEMA_FAILURE, f"{where}: an object with a kind ({', '.join(KINDS)})")
    kind = KINDS.get(raw["kind"])
    if kind is None:
        raise DipError(Msg.SCHEMA_FAILURE, f"{where}.kind: one of {', '.join(KINDS)}; got {raw['kind']!r}")
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "kind":
            continue
        if key not in kind.params:
            allowed = ", ".join(kind.params) or "no other keys"
            raise DipError(Msg.SCHEMA_FAILURE, f"{where}.{key}: unknown key for {raw['kind']}; allowed: {allowed}")
        typ, low, high = kind.params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or (typ is int and value != int(value)):
            raise DipError(Msg.SCHEMA_FAILURE, f"{where}.{key}: a {'whole ' if typ is int else ''}number")
        if not low <= value <= high:
            raise DipError(Msg.SCHEMA_FAILURE, f"{where}.{key}: from {low:g} to {high:g}; got {value}")
        params[key] = typ(value)
    missing = sorted(kind.required - set(params))
    if missing:
        raise DipError(Msg.SCHEMA_FAILURE, f"{where}.{missing[0]}: required for {raw['kind']}")
    return Criterion(raw["kind"], params)


def parse_list(raw: Any, where: str) -> list[Criterion]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise DipError(Msg.SCHEMA_FAILURE, f"{where}: a list of criteria")
    return [parse(item, f"{where}[{i}]") for i, item in enumerate(raw)]
