"""Roles and what each may do.

The four participant-side roles follow the DIP portal's (Primary User Admin,
Certificate Admin, Message Admin) plus a read-only auditor; the hub operator
runs the environment. Every role except the operator belongs to one
organisation and sees only that organisation's DIP IDs; an auditor without an
organisation audits the whole hub, read-only.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    PRIMARY_USER_ADMIN = "primary_user_admin"
    CERTIFICATE_ADMIN = "certificate_admin"
    MESSAGE_ADMIN = "message_admin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Role.OPERATOR: "Hub operator",
    Role.PRIMARY_USER_ADMIN: "Primary User Admin",
    Role.CERTIFICATE_ADMIN: "Certificate Admin",
    Role.MESSAGE_ADMIN: "Message Admin",
    Role.AUDITOR: "Auditor (read-only)",
}


class Permission(StrEnum):
    READ = "read"
    """See participants, certificates and settings in scope."""
    MANAGE_PARTICIPANTS = "participants:manage"
    """Register, suspend and reinstate participants; organisations; limits."""
    EDIT_PARTICIPANTS = "participants:edit"
    """Names, contacts and default webhooks of participants in scope."""
    CONTROL_TRAFFIC = "participants:control"
    """Stop and start a participant's inbound API and outbound sending."""
    MANAGE_USERS = "users:manage"
    MANAGE_CERTIFICATES = "certificates:manage"
    MANAGE_KEYS = "keys:manage"
    READ_MESSAGES = "messages:read"
    MANAGE_MESSAGES = "messages:manage"
    """Replay and requeue."""
    READ_AUDIT = "audit:read"
    RUN_PROVING = "proving:run"


_ALL = frozenset(Permission)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: _ALL,
    Role.PRIMARY_USER_ADMIN: frozenset(
        {
            Permission.READ,
            Permission.EDIT_PARTICIPANTS,
            Permission.CONTROL_TRAFFIC,
            Permission.MANAGE_USERS,
            Permission.READ_MESSAGES,
            Permission.READ_AUDIT,
            Permission.RUN_PROVING,
        }
    ),
    Role.CERTIFICATE_ADMIN: frozenset(
        {Permission.READ, Permission.MANAGE_CERTIFICATES, Permission.MANAGE_KEYS, Permission.RUN_PROVING}
    ),
    Role.MESSAGE_ADMIN: frozenset(
        {
            Permission.READ,
            Permission.CONTROL_TRAFFIC,
            Permission.READ_MESSAGES,
            Permission.MANAGE_MESSAGES,
            Permission.RUN_PROVING,
        }
    ),
    Role.AUDITOR: frozenset({Permission.READ, Permission.READ_MESSAGES, Permission.READ_AUDIT}),
}

ORGANISATION_ROLES = frozenset({Role.PRIMARY_USER_ADMIN, Role.CERTIFICATE_ADMIN, Role.MESSAGE_ADMIN, Role.AUDITOR})
"""Roles a Primary User Admin may give to users of their own organisation."""


def parse_role(text: str) -> Role | None:
    """A role from its value or its label, forgiving case and spaces ("Primary User Admin")."""
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    for role in Role:
        if key in (role.value, role.label.lower().replace(" ", "_")):
            return role
    return None
