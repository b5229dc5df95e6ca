"""A delivered message as a recipient reads it, and what a role decides to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opendip.simulator import codes


@dataclass(frozen=True)
class Inbound:
    """One message of a delivery (with the D0 block the hub added)."""

    payload: dict[str, Any]

    @property
    def common(self) -> dict[str, Any]:
        return self.payload.get("CommonBlock") or {}

    @property
    def custom(self) -> dict[str, Any]:
        return self.payload.get("CustomBlock") or {}

    @property
    def interface(self) -> str:
        return str(self.common.get("S0", {}).get("interfaceID", ""))

    @property
    def event(self) -> str:
        return str(self.common.get("S0", {}).get("eventCode", "")).strip("[]")

    @property
    def sender(self) -> str:
        return str(self.common.get("S1", {}).get("senderDIPID", ""))

    @property
    def sender_role(self) -> str:
        return str(self.common.get("S1", {}).get("senderRoleID", ""))

    @property
    def environment(self) -> str:
        return str(self.common.get("S1", {}).get("environmentTag", ""))

    @property
    def transaction_id(self) -> str | None:
        value = (self.common.get("D0") or {}).get("transactionID")
        return value if isinstance(value, str) and value else None

    @property
    def correlation_id(self) -> str | None:
        """The conversation this message belongs to (the hub's D0 initialCorrelationID); answers carry it on."""
        value = (self.common.get("D0") or {}).get("initialCorrelationID")
        return value if isinstance(value, str) and value else None

    @property
    def mpan(self) -> str | None:
        """The MPAN a message is about: M0's core, or M1's principal MPAN."""
        if "M0" in self.common:
            return str(self.common["M0"].get("MPANCore"))
        if "M1" in self.common:
            return str(self.common["M1"].get("principalMPAN"))
        return None

    @property
    def addressed_to(self) -> set[str]:
        a0 = self.common.get("A0") or {}
        return {r for key in ("primaryRecipients", "secondaryRecipients", "always") for r in a0.get(key) or []}

    def field(self, name: str) -> Any:
        """The first value of a CustomBlock field named `name`, however deep."""
        return _find(self.custom, name)


def _find(node: Any, name: str) -> Any:
    if isinstance(node, dict):
        if name in node:
            return node[name]
        for value in node.values():
            found = _find(value, name)
            if found is not None:
                return found
    if isinstance(node, list):
        for value in node:
            found = _find(value, name)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class Outgoing:
    """A message a role sends through the hub in answer (or on its own initiative)."""

    interface: str
    event: str
    sender: str
    recipients: tuple[str, ...]
    mpan: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    response: tuple[str, list[str]] | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Reaction:
    """A role's verdict on a message it took (the code of its L4 status) and what it sends next."""

    code: str = codes.SUCCESS
    note: str | None = None
    outgoing: tuple[Outgoing, ...] = ()

    @property
    def accepted(self) -> bool:
        return codes.is_success(self.code)


def rejected(code: str, note: str, *answers: Outgoing) -> Reaction:
    return Reaction(code, note, answers)
