"""Request bodies of the admin certificate routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from opendip.accounts.dependencies import admin_body
from opendip.core.validation import Body


class Issue(Body):
    csr: str | None = Field(None, max_length=20_000)
    days: int | None = None
    revoke_previous: bool = Field(False, alias="revokePrevious")


class Register(Body):
    certificate: str = Field(max_length=20_000)


class Revoke(Body):
    reason: str | None = Field(None, max_length=200)


IssueBody = Annotated[Issue, admin_body(Issue)]
RegisterBody = Annotated[Register, admin_body(Register)]
RevokeBody = Annotated[Revoke, admin_body(Revoke)]
