"""Working out who receives a message: the sender's primary recipients plus the catalogue's routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opendip.catalogue.model import RoutingRule
from opendip.errors import DipError, Msg
from opendip.participants.registry import RegistrySnapshot

PRIMARY_PUBLICATION = "PUB-001"


@dataclass(frozen=True)
class Recipient:
    dip_id: str
    kind: str  # primary | secondary | always
    publication_id: str


@dataclass
class Addressed:
    recipients: list[Recipient] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    secondary: list[str] = field(default_factory=list)
    always: list[str] = field(default_factory=list)


def address(common: dict[str, Any], rules: tuple[RoutingRule, ...], snapshot: RegistrySnapshot) -> Addressed:
    """Resolve recipients; raise for an unknown primary, journal unknown routed ones as exceptions."""
    sender = common.get("S1", {}).get("senderDIPID")
    a0 = common.get("A0") or {}
    result = Addressed()
    seen: set[str] = set()
    for index, dip_id in enumerate(a0.get("primaryRecipients") or []):
        if dip_id not in snapshot.participants:
            raise DipError(
                Msg.UNKNOWN_RECIPIENT,
                f"$.payload.CommonBlock.A0.primaryRecipients[{index}]: {dip_id} is not a registered DIP ID",
            )
        if dip_id not in seen:
            seen.add(dip_id)
            result.recipients.append(Recipient(dip_id, "primary", PRIMARY_PUBLICATION))
    event = common.get("S0", {}).get("eventCode", "")
    for number, rule in enumerate(rules, start=2):
        if rule.events is not None and event.strip("[]") not in rule.events:
            continue
        publication = f"PUB-{number:03d}"
        for dip_id in _targets(rule, common, snapshot, result):
            if dip_id in seen or dip_id == sender:
                continue
            seen.add(dip_id)
            result.recipients.append(Recipient(dip_id, rule.kind, publication))
            (result.always if rule.kind == "always" else result.secondary).append(dip_id)
    if not result.recipients:
        raise DipError(Msg.UNKNOWN_RECIPIENT, "$.payload.CommonBlock.A0.primaryRecipients: no recipients")
    return result


def _targets(rule: RoutingRule, common: dict[str, Any], snapshot: RegistrySnapshot, result: Addressed) -> list[str]:
    if rule.target_kind == "role":
        return list(snapshot.by_role.get(rule.target_value or "", ()))
    if rule.target_kind == "mpan_distributor":
        candidate = (common.get("M0") or {}).get("distributorDIPID")
    else:
        candidate = rule.target_value
    if not candidate:
        return []
    if candidate not in snapshot.participants:
        result.exceptions.append(f"{rule.kind} recipient {candidate} ({rule.target_kind}) is not registered")
        return []
    return [candidate]
