"""Test plans from files: phases with their criteria, test cases and cohorts, from YAML or a CSV of cases.

A YAML plan may hold any of `phases:`, `cases:` and `cohorts:`; a CSV holds
cases only, one a row, with the columns of `CASE_COLUMNS` (lists separated by
spaces or semicolons). Everything is checked before anything is stored, and
a problem is refused with the file's JSON path (or CSV row) and the rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from opendip.errors import DipError, Msg
from opendip.tracking.criteria import Criterion, parse_list

CASE_COLUMNS = ("id", "title", "phase", "process", "interfaces", "scenarios", "priority", "roles")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
ROLE = re.compile(r"^[A-Z0-9]{1,5}$")


@dataclass(frozen=True)
class Phase:
    name: str
    title: str
    entry: list[Criterion]
    exit: list[Criterion]


@dataclass(frozen=True)
class Case:
    case_id: str
    title: str
    phase: str
    process: str
    interfaces: list[str]
    scenarios: list[str]
    priority: int
    roles: list[str]


@dataclass(frozen=True)
class Cohort:
    name: str
    title: str
    phase: str
    starts: dt.date
    ends: dt.date
    role: str | None = None
    environment: str | None = None
    members: list[str] = field(default_factory=list)


@dataclass
class Plan:
    phases: list[Phase] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    cohorts: list[Cohort] = field(default_factory=list)


def _bad(where: str, rule: str) -> DipError:
    return DipError(Msg.SCHEMA_FAILURE, f"{where}: {rule}")


def name_of(value: Any, where: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise _bad(where, f"1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit; got {value!r}")
    return value


def text_of(value: Any, where: str, *, limit: int = 200, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _bad(where, f"a text of 1 to {limit} characters")
    return value.strip()


def words_of(value: Any, where: str) -> list[str]:
    """A list of strings, or one string of them separated by spaces, commas or semicolons."""
    if value is None:
        return []
    if isinstance(value, str):
        return [w for w in re.split(r"[\s,;]+", value) if w]
    if not isinstance(value, list):
        raise _bad(where, "a list of strings")
    words = []
    for i, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)  # a DIP ID written without quotes reads as a number
        if not isinstance(item, str) or not item.strip():
            raise _bad(f"{where}[{i}]", f"a non-empty string; got {item!r}")
        words.append(item.strip())
    return words


def date_of(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _bad(where, f"a date YYYY-MM-DD; got {value!r}") from None


def role_of(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not ROLE.match(value):
        raise _bad(where, f"a market role code such as SUP or LDSO; got {value!r}")
    return value


def priority_of(value: Any, where: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if isinstance(value, bool) or number not in (1, 2, 3):
        raise _bad(where, f"a priority 1 (mandatory), 2 or 3; got {value!r}")
    return number


def _only(data: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _bad(where, "an object")
    unknown = sorted((key for key in data if key not in allowed), key=str)
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(data))
    if missing:
        raise _bad(f"{where}.{missing[0]}", "required")
    return data


def phase_of(data: Any, where: str) -> Phase:
    data = _only(data, where, {"name", "title", "entry", "exit"}, {"name"})
    name = name_of(data["name"], f"{where}.name")
    return Phase(
        name,
        text_of(data.get("title") or name, f"{where}.title"),
        parse_list(data.get("entry"), f"{where}.entry"),
        parse_list(data.get("exit"), f"{where}.exit"),
    )


def case_of(data: Any, where: str) -> Case:
    data = _only(data, where, set(CASE_COLUMNS), {"id", "title", "phase", "process"})
    roles = words_of(data.get("roles"), f"{where}.roles")
    for i, role in enumerate(roles):
        role_of(role, f"{where}.roles[{i}]")
    return Case(
        name_of(data["id"], f"{where}.id"),
        text_of(data["title"], f"{where}.title"),
        name_of(data["phase"], f"{where}.phase"),
        text_of(data["process"], f"{where}.process", limit=120),
        words_of(data.get("interfaces"), f"{where}.interfaces"),
        words_of(data.get("scenarios"), f"{where}.scenarios"),
        priority_of(data.get("priority", 2), f"{where}.priority"),
        roles,
    )


def cohort_of(data: Any, where: str) -> Cohort:
    keys = {"name", "title", "phase", "starts", "ends", "role", "environment", "members"}
    data = _only(data, where, keys, {"name", "phase", "starts", "ends"})
    name = name_of(data["name"], f"{where}.name")
    starts, ends = date_of(data["starts"], f"{where}.starts"), date_of(data["ends"], f"{where}.ends")
    if ends < starts:
        raise _bad(f"{where}.ends", f"on or after starts ({starts}); got {ends}")
    members = words_of(data.get("members"), f"{where}.members")
    for i, member in enumerate(members):
        name_of(member, f"{where}.members[{i}]")
    environment = data.get("environment")
    return Cohort(
        name,
        text_of(data.get("title") or name, f"{where}.title"),
        name_of(data["phase"], f"{where}.phase"),
        starts,
        ends,
        role_of(data.get("role"), f"{where}.role"),
        name_of(environment, f"{where}.environment") if environment else None,
        members,
    )


def _items(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise _bad(f"$.{key}", "a list")
    return value


def plan_from_yaml(text: str) -> Plan:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _bad("$", f"not YAML: {exc}") from None
    data = _only(data, "$", {"phases", "cases", "cohorts"}, set())
    plan = Plan(
        [phase_of(p, f"$.phases[{i}]") for i, p in enumerate(_items(data, "phases"))],
        [case_of(c, f"$.cases[{i}]") for i, c in enumerate(_items(data, "cases"))],
        [cohort_of(c, f"$.cohorts[{i}]") for i, c in enumerate(_items(data, "cohorts"))],
    )
    for kind, names in (("case", [c.case_id for c in plan.cases]), ("cohort", [c.name for c in plan.cohorts])):
        if len(set(names)) != len(names):
            raise _bad(f"$.{kind}s", f"each {kind} once; repeated: {sorted({n for n in names if names.count(n) > 1})}")
    return plan


def plan_from_csv(text: str) -> Plan:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("id", "title", "phase", "process") if c not in header]
    if missing:
        raise _bad("row 1", f"the header needs the columns {', '.join(CASE_COLUMNS)}; missing {', '.join(missing)}")
    cases = []
    for number, row in enumerate(reader, start=2):
        data = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
        cases.append(case_of(data, f"row {number}"))
    return Plan(cases=cases)


def load_plan(text: str, fmt: str) -> Plan:
    """`fmt` is yaml or csv (from a file's suffix or a request's content type)."""
    return plan_from_csv(text) if fmt == "csv" else plan_from_yaml(text)
