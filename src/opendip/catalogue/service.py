"""Validating messages without sending them: the logic behind POST /validate and `opendip validate`.

The same checks the send path makes before storing (the catalogue's schema and
rules, the environment tag), run on a whole array at once and reported in full:
every issue of every message, each with its JSON path, the rule it broke and a
sentence, because a participant debugging a message wants all of it in one go.
Nothing is stored and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.issues import AnswerBudget, child_path, issue, show
from opendip.catalogue.model import ValidationIssue
from opendip.catalogue.rules import DEFAULT_FUTURE_TOLERANCE
from opendip.core.envelope import payload_of
from opendip.core.responses import ResponseItem
from opendip.errors import DipError, Msg


@dataclass
class Verdict:
    """What the catalogue says about one message of the array."""

    index: int
    issues: list[ValidationIssue] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    sender_unique_reference: str | None = None
    sender_id: str | None = None

    @property
    def valid(self) -> bool:
        return not self.issues


def check_event_code(catalogue: Catalogue, interface_id: str, event_code: str) -> None:
    """The URL's channel and event code must exist before any message is looked at."""
    interface = catalogue.interface(interface_id)
    if interface is None:
        raise DipError(Msg.UNKNOWN_CHANNEL, f"{interface_id} is not a catalogued interface")
    bare = event_code.strip("[]")
    if not any(catalogue.event(interface_id, version, bare) for version in interface.versions):
        known = ", ".join(interface.event_codes()) or "any (not published)"
        raise DipError(Msg.UNKNOWN_EVENT_CODE, f"{bare} is not an event code of {interface_id}; known: {known}")


def validate_item(
    catalogue: Catalogue,
    raw: Any,
    index: int,
    interface_id: str,
    *,
    event_code: str | None = None,
    environment: str | None = None,
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE,
) -> Verdict:
    """Every issue with item `index` of a request array, and what could not be checked."""
    verdict = Verdict(index)
    prefix = f"$[{index}].payload"
    try:
        payload = payload_of(raw)
    except DipError as exc:
        verdict.issues.append(issue(f"$[{index}]", "envelope", exc.detail, exc.msg))
        return verdict
    payload, renamed = catalogue.normalise_keys(payload, prefix)  # as the send path: field names in any case
    common = payload.get("CommonBlock") if isinstance(payload, dict) else None
    s0 = common.get("S0") if isinstance(common, dict) else None
    s1 = common.get("S1") if isinstance(common, dict) else None
    if isinstance(s1, dict):
        verdict.sender_unique_reference = _text(s1.get("senderUniqueReference"))
        verdict.sender_id = _text(s1.get("senderDIPID"))
    if event_code is not None and isinstance(s0, dict) and s0.get("eventCode") != f"[{event_code.strip('[]')}]":
        path = child_path(child_path(child_path(prefix, "CommonBlock"), "S0"), "eventCode")
        text = f"eventCode must be [{event_code.strip('[]')}], the event in the URL; got {show(s0.get('eventCode'))}"
        verdict.issues.append(issue(path, "eventCodeMismatch", text, Msg.UNKNOWN_EVENT_CODE))
    verdict.issues.extend(
        catalogue.validate(payload, interface_id, path_prefix=prefix, future_tolerance=future_tolerance)
    )
    if environment is not None and isinstance(s1, dict) and "environmentTag" in s1:
        tag = s1["environmentTag"]
        if tag != environment:
            path = child_path(child_path(child_path(prefix, "CommonBlock"), "S1"), "environmentTag")
            text = f"environmentTag must be {environment}, this hub's environment; got {show(tag)}"
            verdict.issues.append(issue(path, "environment", text, Msg.WRONG_ENVIRONMENT))
    if isinstance(s0, dict):
        verdict.notices = catalogue.notices(interface_id, str(s0.get("schemaVersion")), str(s0.get("eventCode")))
    if renamed:
        verdict.notices.append("field names put in the catalogue's case: " + "; ".join(renamed))
    verdict.notices += catalogue.reference_notes(payload, interface_id, prefix)
    return verdict


def validate_array(
    catalogue: Catalogue,
    items: list[Any],
    interface_id: str,
    *,
    event_code: str | None = None,
    environment: str | None = None,
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE,
) -> list[Verdict]:
    return [
        validate_item(
            catalogue,
            raw,
            index,
            interface_id,
            event_code=event_code,
            environment=environment,
            future_tolerance=future_tolerance,
        )
        for index, raw in enumerate(items)
    ]


def response_items(verdicts: list[Verdict]) -> list[ResponseItem]:
    """StandardResponse lines: one MSG0000 per valid message, one line per issue of the others."""
    lines: list[ResponseItem] = []
    budget = AnswerBudget()
    for verdict in verdicts:
        common = {"sender_unique_reference": verdict.sender_unique_reference, "sender_id": verdict.sender_id}
        if verdict.valid:
            note = "; ".join(verdict.notices)
            text = f"$[{verdict.index}]: valid (not stored, not sent)" + (f"; note: {note}" if note else "")
            lines.append(ResponseItem(Msg.SUCCESS, text, **common))
            continue
        for found in budget.take(verdict.issues):
            lines.append(ResponseItem(found.msg, f"{found.path}: {found.text} [rule: {found.rule}]", **common))
    return lines


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
