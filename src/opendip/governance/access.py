"""Who may act in which governance role: the one rule the API and the pages share.

The hub operator runs the DIP Manager's side and may act in any governance
role (the acting role is recorded with every step). Anyone else signed in may
raise change requests and comment, as a proposer or a DIP participant; a
read-only auditor may only read.
"""

from __future__ import annotations

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.errors import DipError, Msg

OPEN_TO_ALL = ("proposer", "participant")


def acting_role(viewer: Viewer, claimed: str | None, roles: list[str]) -> str:
    """The governance role `viewer` acts in, if they may claim it; 403 naming the roles they may claim."""
    role = (claimed or "").strip()
    if role not in roles:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.as: one of {', '.join(roles)}; got {role!r}")
    if viewer.is_operator:
        return role
    allowed = [] if viewer.role is Role.AUDITOR else list(OPEN_TO_ALL)
    if role not in allowed:
        may = ", ".join(allowed) or "no governance role (read-only)"
        raise DipError(Msg.PERMISSION_DENIED, f"{viewer.role.label} may act as {may}; not as {role}")
    return role


def claimable(viewer: Viewer, roles: list[str]) -> list[str]:
    if viewer.is_operator:
        return roles
    return [] if viewer.role is Role.AUDITOR else list(OPEN_TO_ALL)
