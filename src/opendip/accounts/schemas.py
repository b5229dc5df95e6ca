"""Request bodies of the accounts API: signing in by JSON, and creating and changing users."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from opendip.accounts.dependencies import admin_body
from opendip.core.validation import Body


class SessionBody(Body):
    """`POST /admin/session`: a script signs in."""

    username: str
    password: str


class UserCreate(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: str = Field(max_length=40)
    organisation: str | None = Field(None, max_length=40)
    display_name: str | None = Field(None, alias="displayName", max_length=200)
    email: str | None = Field(None, max_length=254)


class UserUpdate(Body):
    """Only what is sent changes; `unlock` ends a sign-in wait."""

    role: str | None = Field(None, max_length=40)
    disabled: bool | None = None
    password: str | None = Field(None, max_length=256)
    display_name: str | None = Field(None, alias="displayName", max_length=200)
    email: str | None = Field(None, max_length=254)
    unlock: bool = False


NewUser = Annotated[UserCreate, admin_body(UserCreate)]
UserChange = Annotated[UserUpdate, admin_body(UserUpdate)]
