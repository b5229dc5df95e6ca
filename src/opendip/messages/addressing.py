"""Working out who receives a message: the sender's A0 lists plus the catalogue's routes.

Every recipient must be a registered participant in a role that receives the
interface, or the message is refused with the published addressing code for
its list (primary, secondary, always) and kind of fault (unknown DIP ID, wrong
role). Routed recipients the hub cannot resolve refuse the message too
(MSG1037 without an MPAN, MSG1038 when the MPAN's party is no participant):
a message the DIP accepts reaches everyone its routing rules say it should.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opendip.catalogue.model import Interface, RoutingRule
from opendip.errors import DipError, Msg
from opendip.participants.registry import RegistrySnapshot

PRIMARY_PUBLICATION = "PUB-001"
_A0 = "$.payload.CommonBlock.A0"

# Per A0 list: (code for an unknown DIP ID, code for a registered one in the wrong role).
_LIST_CODES: dict[str, tuple[Msg, Msg]] = {
    "primaryRecipients": (Msg.PRIMARY_RECIPIENT_UNKNOWN, Msg.PRIMARY_RECIPIENT_ROLE),
    "secondaryRecipients": (Msg.SECONDARY_RECIPIENT_UNKNOWN, Msg.SECONDARY_RECIPIENT_ROLE),
    "always": (Msg.ALWAYS_RECIPIENT_UNKNOWN, Msg.ALWAYS_RECIPIENT_ROLE),
}
_KIND_OF_LIST = {"primaryRecipients": "primary", "secondaryRecipients": "secondary", "always": "always"}


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

    def add(self, recipient: Recipient, seen: set[str]) -> None:
        if recipient.dip_id in seen:
            return
        seen.add(recipient.dip_id)
        self.recipients.append(recipient)
        if recipient.kind == "secondary":
            self.secondary.append(recipient.dip_id)
        elif recipient.kind == "always":
            self.always.append(recipient.dip_id)


def address(common: dict[str, Any], interface: Interface, snapshot: RegistrySnapshot) -> Addressed:
    """Resolve recipients, or raise the published addressing code naming the JSON path at fault."""
    sender = common.get("S1", {}).get("senderDIPID")
    a0 = common.get("A0") or {}
    result = Addressed()
    seen: set[str] = set()
    for list_name, (unknown, wrong_role) in _LIST_CODES.items():
        for index, dip_id in enumerate(a0.get(list_name) or []):
            if dip_id is None:
                continue
            path = f"{_A0}.{list_name}[{index}]"
            _check_recipient(dip_id, path, interface, snapshot, unknown, wrong_role)
            publication = PRIMARY_PUBLICATION
            result.add(Recipient(dip_id, _KIND_OF_LIST[list_name], publication), seen)
    event = common.get("S0", {}).get("eventCode", "")
    for number, rule in enumerate(interface.routing, start=2):
        if rule.events is not None and event.strip("[]") not in rule.events:
            continue
        publication = f"PUB-{number:03d}"
        for dip_id in _targets(rule, common, snapshot):
            if dip_id != sender:
                result.add(Recipient(dip_id, rule.kind, publication), seen)
    if not result.recipients:
        raise DipError(
            Msg.ADDRESSING_ERROR,
            f"{_A0}.primaryRecipients: no recipients named, and no routing rule of {interface.id} adds any",
        )
    return result


def _check_recipient(
    dip_id: Any, path: str, interface: Interface, snapshot: RegistrySnapshot, unknown: Msg, wrong_role: Msg
) -> None:
    registered = snapshot.participants.get(dip_id) if isinstance(dip_id, str) else None
    if registered is None:
        raise DipError(unknown, f"{path}: {dip_id} is not a registered DIP ID")
    if interface.recipient_roles and registered.role not in interface.recipient_roles:
        roles = ", ".join(sorted(interface.recipient_roles))
        raise DipError(
            wrong_role,
            f"{path}: {dip_id} is registered as {registered.role}, which does not receive {interface.id} "
            f"(receiving roles: {roles})",
        )


def _targets(rule: RoutingRule, common: dict[str, Any], snapshot: RegistrySnapshot) -> list[str]:
    if rule.target_kind == "role":
        return list(snapshot.by_role.get(rule.target_value or "", ()))
    if rule.target_kind == "mpan_distributor":
        m0 = common.get("M0") or {}
        candidate = m0.get("distributorDIPID")
        if not m0.get("MPANCore") or not candidate:
            raise DipError(
                Msg.SECONDARY_NEEDS_MPAN if rule.kind == "secondary" else Msg.ALWAYS_RECIPIENT_UNKNOWN,
                "$.payload.CommonBlock.M0: the routing rules send this message to the MPAN's distributor, "
                "but M0.MPANCore or M0.distributorDIPID is missing",
            )
        if candidate not in snapshot.participants:
            raise DipError(
                Msg.SECONDARY_UNRESOLVED if rule.kind == "secondary" else Msg.ALWAYS_RECIPIENT_UNKNOWN,
                f"$.payload.CommonBlock.M0.distributorDIPID: {candidate}, the distributor of MPAN "
                f"{m0.get('MPANCore')}, is not a registered participant",
            )
        return [candidate]
    candidate = rule.target_value
    if not candidate:
        return []
    if candidate not in snapshot.participants:
        raise DipError(
            Msg.SECONDARY_UNRESOLVED if rule.kind == "secondary" else Msg.ALWAYS_RECIPIENT_UNKNOWN,
            f"$.payload.CommonBlock.A0: the routing rules name {candidate} as {rule.kind} recipient, "
            "but it is not a registered participant",
        )
    return [candidate]
