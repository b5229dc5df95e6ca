"""What accounts needs to know of organisations, without reading the participants domain's tables.

A user belongs to an organisation, and an organisation's users see its DIP
IDs. Both facts belong to the participants domain, which hands an
implementation of `Organisations` to the account services when the hub is
built (`participants.organisations.OrganisationDirectory`).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection


class Organisations(Protocol):
    def exists(self, conn: Connection, organisation_id: str) -> bool:
        """Whether the organisation is registered, read inside the caller's transaction."""
        ...

    def dip_ids(self, conn: Connection, organisation_id: str) -> frozenset[str]:
        """The DIP IDs the organisation holds: what its users may see."""
        ...
