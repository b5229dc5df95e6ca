"""Cross-field rules a JSON Schema cannot say: parts of one field must agree with others.

MPAN-based interfaces must carry M0, others must not. The senderUniqueReference
embeds the interface and the sender's DIP ID (`S-IF-043-1009012345-REGS-20220528-...`);
the DIP does not refuse a reference that disagrees with them, so that is a note.
These run on every message, valid or not, so they stay string splits and
dictionary lookups: no regular expressions on the hot path.
"""

from __future__ import annotations

from datetime import datetime
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
) -> list[ValidationIssue]:
    """Issues for the CommonBlock `common` of a payload on `interface` (path prefix is the payload's)."""
    found: list[ValidationIssue] = []
    base = child_path(prefix, "CommonBlock")
    present = mpan_block in common
    if interface.mpan_based and not present:
        text = f"{mpan_block} is required in CommonBlock: {interface.id} is an MPAN-based interface"
        found.append(issue(child_path(base, mpan_block), "mpanBased", text))
    elif present and not interface.mpan_based:
        text = f"{mpan_block} is not allowed in CommonBlock: {interface.id} is not MPAN-based"
        found.append(issue(child_path(base, mpan_block), "mpanBased", text))
    return found


def reference_notes(common: dict[str, Any], interface: Interface, prefix: str) -> list[str]:
    """Where the senderUniqueReference does not name this interface or carry the senderDIPID, as notes.

    The published format (DT-995) embeds both, but the published schema checks
    only the reference's shape and every published example carries a DIP ID
    that is not its sender's: the DIP gives no rejection for it, so OpenDIP
    does not refuse it either. The mismatch is journalled with the message (and
    listed by /validate) so that a reference that cannot be traced back is seen.
    """
    s1 = common.get("S1")
    if not isinstance(s1, dict):
        return []
    reference = s1.get("senderUniqueReference")
    parsed = parse_reference(reference) if isinstance(reference, str) else None
    if parsed is None:
        return []
    path = child_path(child_path(child_path(prefix, "CommonBlock"), "S1"), "senderUniqueReference")
    interface_part, dip_part = parsed
    notes = []
    if not _interface_agrees(interface_part, interface.id):
        notes.append(f"{path} names {interface_part}, not {interface.id} [note: referenceInterface]")
    sender = s1.get("senderDIPID")
    if isinstance(sender, str) and dip_part.lower() != sender.lower():
        notes.append(f"{path} carries DIP ID {dip_part}, not the senderDIPID {sender} [note: referenceSender]")
    return notes


DEFAULT_FUTURE_TOLERANCE = 300.0


def sender_timestamp_issues(
    common: dict[str, Any],
    prefix: str,
    now: float,
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE,
    failed: frozenset[str] | set[str] = frozenset(),
) -> list[ValidationIssue]:
    """S1.senderTimestamp must be a date-time that exists and is not ahead of `now` beyond the tolerance.

    The schema's pattern lets `2026-13-45T99:99:99+00:00` through: only parsing
    it tells an impossible date from a real one. Both faults are MSG1007.
    """
    s1 = common.get("S1")
    value = s1.get("senderTimestamp") if isinstance(s1, dict) else None
    path = child_path(child_path(child_path(prefix, "CommonBlock"), "S1"), "senderTimestamp")
    if not isinstance(value, str) or path in failed:
        return []
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        return [issue(path, "dateTime", f"senderTimestamp must be a real date and time; {show(value)} is not ({exc})")]
    if moment.tzinfo is None:
        return [issue(path, "dateTime", f"senderTimestamp must carry a UTC offset; got {show(value)}")]
    ahead = moment.timestamp() - now
    if ahead > future_tolerance:
        text = (
            f"senderTimestamp must not be in the future (tolerance {future_tolerance:g} s); "
            f"got {show(value)}, {ahead:.0f} s ahead of the hub's clock"
        )
        return [issue(path, "future", text)]
    return []
