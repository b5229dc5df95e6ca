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
from functools import lru_cache
from itertools import islice
from typing import Any

from opendip.catalogue.model import ValidationIssue
from opendip.errors import Msg

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SHOWN = 60
MAX_ISSUES_PER_MESSAGE = 20
"""Issues listed per message; the rest are counted. A sender fixes the first ones and sends again,
while a message with thousands of unknown keys must not buy a megabyte answer and the CPU to write it."""
_MAX_ERRORS_READ = 200


# The send path builds the same few paths for every message of a batch, so short paths are cached; keys come
# from what clients send (an unknown key is named in its issue's path), so a long one is built, never kept:
# the cache holds at most 8192 entries of at most these lengths, a byte bound whatever the keys (issue 16).
CACHED_PATH_CHARS = 200
CACHED_KEY_CHARS = 64


def child_path(path: str, key: str | int) -> str:
    """`$.a` + `b` -> `$.a.b`; + 0 -> `$.a[0]`; odd keys are bracket-quoted."""
    if len(path) <= CACHED_PATH_CHARS and (isinstance(key, int) or len(key) <= CACHED_KEY_CHARS):
        return _cached_child_path(path, key)
    return _child_path(path, key)


def _child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}['{key}']"


_cached_child_path = lru_cache(maxsize=8192)(_child_path)


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


# CommonBlock fields whose faults have a published code of their own rather than MSG1001.
_FIELD_CODES: dict[str, Msg] = {
    "S0.interfaceID": Msg.INTERFACE_MISMATCH,
    "S1.senderTimestamp": Msg.SENDER_TIMESTAMP_INVALID,
    "S1.senderDIPID": Msg.SENDER_DIP_ID_INVALID,
    "S1.senderRoleID": Msg.SENDER_ROLE_INVALID,
    "S1.DIPConnectionProviderID": Msg.CONNECTION_PROVIDER_INVALID,
    "S1.senderCorrelationID": Msg.CORRELATION_ID_INVALID,
    "A0.primaryRecipients": Msg.PRIMARY_RECIPIENT_UNKNOWN,
    "A0.secondaryRecipients": Msg.SECONDARY_RECIPIENT_UNKNOWN,
    "A0.always": Msg.ALWAYS_RECIPIENT_UNKNOWN,
}


def code_for_path(path: str) -> Msg:
    """The published code for a fault at `path`: the field's own code, or MSG1001 Schema Failure."""
    _, found, rest = path.rpartition(".CommonBlock.")
    if not found:
        return Msg.SCHEMA_FAILURE
    return _FIELD_CODES.get(rest.split("[", 1)[0], Msg.SCHEMA_FAILURE)


def issue(path: str, rule: str, text: str, msg: Msg | None = None) -> ValidationIssue:
    """An issue; without an explicit code, the one the published list gives the field at `path`."""
    return ValidationIssue(path=path, rule=rule, text=text, msg=msg or code_for_path(path))


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


# Formats the validator asserts (catalogue/compiler.py): a value can match the pattern and name no real moment.
_REAL = {"date-time": "date-time like 2026-11-25T09:30:00+00:00", "date": "date like 2026-11-25"}


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
        case "format" if detail.get("format") in _REAL:
            return f"{field} must be a real {_REAL[detail['format']]}{got}"
        case "minItems" | "maxItems":
            words = "at least" if rule == "minItems" else "at most"
            return f"{field} must have {words} {detail.get('limit')} items; got {show(value)}"
        case _:
            return f"{field}: {message}"


def describe(errors: Iterable[Any], prefix: str, limit: int = MAX_ISSUES_PER_MESSAGE) -> list[ValidationIssue]:
    """One issue per broken rule (one per key for required and additionalProperties), at most `limit` of them.

    Past the limit one closing issue says how many more there were (reading at
    most a few hundred of the validator's errors, so a message built to break
    every rule costs no more than one that breaks a few).
    """
    issues: list[ValidationIssue] = []
    unlisted = 0
    read = 0
    for error in islice(errors, _MAX_ERRORS_READ):
        read += 1
        rule = error.kind.name
        detail: dict[str, Any] = error.kind.as_dict()
        unexpected: list[str] = (
            [str(key) for key in detail.get("unexpected", [])] if rule == "additionalProperties" else [""]
        )
        room = limit - len(issues)
        if room <= 0:
            unlisted += len(unexpected)
            continue
        parts: list[str | int] = list(error.instance_path)
        base = join_path(prefix, parts)
        where = _name(parts) if parts else "payload"
        if rule == "required":
            key = str(detail.get("property", "?"))
            issues.append(issue(child_path(base, key), rule, f"{key} is required in {where}"))
        elif rule == "additionalProperties":
            unlisted += max(len(unexpected) - room, 0)
            for name in unexpected[:room]:
                text = f"{name} is not allowed in {where}: the block is closed"
                issues.append(issue(child_path(base, name), rule, text))
        else:
            issues.append(issue(base, rule, _sentence(rule, _name(parts), error.instance, detail, error.message)))
    if not unlisted and read < _MAX_ERRORS_READ:
        return issues
    counted = f"{unlisted} more" if read < _MAX_ERRORS_READ else f"at least {unlisted} more"
    text = f"{counted} issues not listed (at most {limit} are listed per message): fix these and send again"
    return [*issues, issue(prefix, "tooManyIssues", text)]


class AnswerBudget:
    """Issues one answer may still list in full, shared by all the messages of a request.

    Each message keeps at least its first issue (so every refusal still names a
    path and a rule); once the budget is spent, the rest of each message's issues
    are only counted. Five hundred hostile messages then cost a bounded answer.
    """

    def __init__(self, lines: int = 1000) -> None:
        self.left = lines

    def take(self, issues: list[ValidationIssue]) -> list[ValidationIssue]:
        if len(issues) <= max(self.left, 1):
            self.left -= len(issues)
            return issues
        self.left = max(self.left - 1, 0)
        first = issues[0]
        text = f"{len(issues) - 1} more issues of this message not listed: this answer lists at most its share"
        return [first, issue(first.path.split(".", 1)[0], "tooManyIssues", text)]
