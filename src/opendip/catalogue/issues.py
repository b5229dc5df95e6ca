"""Turning validator errors into issues a sender can act on without reading a schema.

The DIP answers `MSG1001 - Schema Failure` and little else; our answer adds the
JSON path of the field and a sentence naming the rule it broke and the value
sent. For a missing or unexpected key the path names that key itself, because
"CommonBlock.S1 is missing a property" is less useful than "S1.subText is required".
Only the failure path runs this code, so clarity wins over speed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from opendip.catalogue.model import ValidationIssue
from opendip.errors import Msg

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SHOWN = 60


def child_path(path: str, key: str | int) -> str:
    """`$.a` + `b` -> `$.a.b`; + 0 -> `$.a[0]`; odd keys are bracket-quoted."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}['{key}']"


def join_path(prefix: str, parts: Sequence[str | int]) -> str:
    path = prefix
    for part in parts:
        path = child_path(path, part)
    return path


def show(value: Any) -> str:
    """A short, JSON-flavoured rendering of the offending value for the issue text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "..."
        return repr(shown)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return type(value).__name__


def issue(path: str, rule: str, text: str, msg: Msg = Msg.SCHEMA_FAILURE) -> ValidationIssue:
    return ValidationIssue(path=path, rule=rule, text=text, msg=msg)


def _name(parts: Sequence[str | int]) -> str:
    """The field name a sentence should use: the last key, with its list position when in a list.

    `[..., "consumptionPeriods", 5, "v"]` reads `consumptionPeriods[5].v`: a bare
    `v` would not say which of 48 periods is wrong.
    """
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        if isinstance(part, str):
            name = part + "".join(f"[{p}]" for p in parts[index + 1 :])
            if index >= 2 and isinstance(parts[index - 1], int) and isinstance(parts[index - 2], str):
                name = f"{parts[index - 2]}[{parts[index - 1]}].{name}"
            return name
    return "payload"


def _type_names(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    names = [name for name in names if name != "null"] + (["null"] if "null" in names else [])
    return " or ".join("an object" if n == "object" else "an array" if n == "array" else n for n in names)


def _sentence(rule: str, field: str, value: Any, detail: dict[str, Any], message: str) -> str:
    got = f"; got {show(value)}"
    length = f" ({len(value)} characters)" if isinstance(value, str) else ""
    match rule:
        case "pattern":
            return f"{field} must match {detail.get('pattern')}{got}"
        case "enum":
            options = ", ".join(show(option) for option in detail.get("options", []))
            return f"{field} must be one of {options}{got}"
        case "const":
            return f"{field} must be {show(detail.get('expected_value'))}{got}"
        case "maxLength":
            return f"{field} must be at most {detail.get('limit')} characters{got}{length}"
        case "minLength":
            return f"{field} must be at least {detail.get('limit')} characters{got}{length}"
        case "type":
            return f"{field} must be {_type_names(detail.get('types', detail.get('kind', '?')))}{got}"
        case "minimum" | "maximum" | "multipleOf":
            words = {"minimum": "at least", "maximum": "at most", "multipleOf": "a multiple of"}[rule]
            return f"{field} must be {words} {detail.get('limit', detail.get('multiple_of'))}{got}"
        case "minItems" | "maxItems":
            words = "at least" if rule == "minItems" else "at most"
            return f"{field} must have {words} {detail.get('limit')} items; got {show(value)}"
        case _:
            return f"{field}: {message}"


def describe(errors: Iterable[Any], prefix: str) -> list[ValidationIssue]:
    """One issue per broken rule (one per key for required and additionalProperties)."""
    issues: list[ValidationIssue] = []
    for error in errors:
        parts: list[str | int] = list(error.instance_path)
        rule = error.kind.name
        detail: dict[str, Any] = error.kind.as_dict()
        base = join_path(prefix, parts)
        where = _name(parts) if parts else "payload"
        if rule == "required":
            key = str(detail.get("property", "?"))
            issues.append(issue(child_path(base, key), rule, f"{key} is required in {where}"))
        elif rule == "additionalProperties":
            for key in detail.get("unexpected", []):
                text = f"{key} is not allowed in {where}: the block is closed"
                issues.append(issue(child_path(base, key), rule, text))
        else:
            issues.append(issue(base, rule, _sentence(rule, _name(parts), error.instance, detail, error.message)))
    return issues
