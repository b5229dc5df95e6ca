"""Cross-field rules a JSON Schema cannot say: parts of one field must agree with others.

The senderUniqueReference embeds the interface and the sender's DIP ID
(`S-IF-043-1009012345-REGS-20220528-...`); a reference copied from another
channel or another participant would otherwise pass every field check and
then be impossible to trace. MPAN-based interfaces must carry M0, others must not.
These run on every message, valid or not, so they stay string splits and
dictionary lookups: no regular expressions on the hot path.
"""

from __future__ import annotations

from typing import Any

from opendip.catalogue.issues import child_path, issue, show
from opendip.catalogue.model import Interface, ValidationIssue


def parse_reference(reference: str) -> tuple[str, str] | None:
    """(interface part, DIP ID part) of a senderUniqueReference, or None if it is malformed.

    The interface part is `IF-043` / `REP-002A`, or the bare `043` that the
    published pattern also allows. A malformed reference is left to the schema's
    pattern rule, so it is not reported twice.
    """
    parts = reference.split("-")
    if len(parts) < 6 or parts[0] != "S":
        return None
    if parts[1] in ("IF", "REP"):
        if len(parts) < 7:
            return None
        return f"{parts[1]}-{parts[2]}", parts[3]
    return parts[1], parts[2]


def _interface_agrees(part: str, interface_id: str) -> bool:
    if "-" in part:
        return part == interface_id
    return interface_id.split("-", 1)[-1] == part


def cross_field_issues(
    common: dict[str, Any],
    interface: Interface,
    mpan_block: str,
    prefix: str,
    failed: frozenset[str] | set[str] = frozenset(),
) -> list[ValidationIssue]:
    """Issues for the CommonBlock `common` of a payload on `interface` (path prefix is the payload's).

    `failed` holds the paths the schema already refused: a rule comparing a field
    that is itself malformed would only repeat that failure less clearly.
    """
    found: list[ValidationIssue] = []
    base = child_path(prefix, "CommonBlock")
    s1 = common.get("S1")
    if isinstance(s1, dict):
        s1_path = child_path(base, "S1")
        path = child_path(s1_path, "senderUniqueReference")
        reference = s1.get("senderUniqueReference")
        parsed = parse_reference(reference) if isinstance(reference, str) and path not in failed else None
        if parsed is not None:
            interface_part, dip_part = parsed
            if not _interface_agrees(interface_part, interface.id):
                text = (
                    f"senderUniqueReference must name interface {interface.id} (S0.interfaceID); "
                    f"got {interface_part} in {show(reference)}"
                )
                found.append(issue(path, "referenceInterface", text))
            sender = s1.get("senderDIPID")
            sender_ok = isinstance(sender, str) and child_path(s1_path, "senderDIPID") not in failed
            if sender_ok and dip_part.lower() != str(sender).lower():
                text = f"senderUniqueReference must carry the senderDIPID {sender}; got {dip_part} in {show(reference)}"
                found.append(issue(path, "referenceSender", text))
    present = mpan_block in common
    if interface.mpan_based and not present:
        text = f"{mpan_block} is required in CommonBlock: {interface.id} is an MPAN-based interface"
        found.append(issue(child_path(base, mpan_block), "mpanBased", text))
    elif present and not interface.mpan_based:
        text = f"{mpan_block} is not allowed in CommonBlock: {interface.id} is not MPAN-based"
        found.append(issue(child_path(base, mpan_block), "mpanBased", text))
    return found
