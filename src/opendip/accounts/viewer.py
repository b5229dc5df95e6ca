"""Who is looking: a signed-in user, the operator token or the local operator, with their role and scope.

The one principal of the admin API, the management pages and the portal alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opendip.accounts.roles import PERMISSIONS, Permission, Role
from opendip.core.audit import Actor
from opendip.errors import DipError, Msg


@dataclass(frozen=True)
class Viewer:
    """A principal of the portal and the admin API.

    `dip_ids` are the DIP IDs of the viewer's organisation. A viewer with no
    organisation (the operator, or a hub-wide auditor) sees every DIP ID.
    """

    username: str
    role: Role
    organisation_id: str | None
    dip_ids: frozenset[str] = field(default_factory=frozenset)
    source: str = "unknown"
    user_id: int | None = None
    session_id: int | None = None
    csrf_token: str | None = None
    display_name: str = ""

    @property
    def hub_wide(self) -> bool:
        return self.organisation_id is None

    @property
    def name(self) -> str:
        """How pages name the viewer."""
        return self.display_name or self.username

    @property
    def scope(self) -> frozenset[str] | None:
        """The DIP IDs whose traffic the viewer sees, for narrowing queries; None for every participant."""
        return None if self.hub_wide else self.dip_ids

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def sees(self, dip_id: str | None) -> bool:
        """True when the viewer may see what concerns `dip_id` (messages, certificates, settings)."""
        return self.hub_wide or (dip_id is not None and dip_id in self.dip_ids)

    def sees_any(self, dip_ids: list[str] | tuple[str, ...] | frozenset[str]) -> bool:
        return self.hub_wide or any(d in self.dip_ids for d in dip_ids)

    def require(self, permission: Permission, dip_id: str | None = None) -> None:
        """Raise 403 unless the role allows `permission` (on `dip_id`, when one is named)."""
        if not self.can(permission):
            raise DipError(
                Msg.PERMISSION_DENIED, f"{self.role.label} may not do this (needs the {permission.value} permission)"
            )
        if dip_id is not None and not self.sees(dip_id):
            raise DipError(Msg.NOT_OWN_RESOURCE, f"{dip_id} does not belong to your organisation")

    @property
    def actor(self) -> Actor:
        who = f"user:{self.username}" if self.user_id is not None else self.username
        return Actor(who, self.source, self.role.value, self.organisation_id)
