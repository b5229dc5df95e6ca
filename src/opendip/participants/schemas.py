"""Request bodies of the participants' API: the published webhook configuration, and the admin API's typed bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from opendip.accounts.dependencies import admin_body
from opendip.accounts.roles import Permission
from opendip.core import jsonbody
from opendip.core.validation import Body
from opendip.errors import DipError, Msg


def parse_pubconfig(body: bytes, hub_limit_kb: int) -> tuple[str, int | None, int | None]:
    """`{callbackURL, maxMessageCount, maxPayloadSize}`: pubconfig and the L4 status webhook alike.

    maxPayloadSize is in KB (1024 bytes) as in Elexon's published document, capped at
    the hub's own limit `hub_limit_kb`; it is stored as given, in KB.
    """
    data = jsonbody.loads(body)
    if not isinstance(data, dict):
        raise DipError(Msg.SCHEMA_FAILURE, "$: the body must be an object")
    unknown = sorted(set(data) - {"callbackURL", "maxMessageCount", "maxPayloadSize"})
    if unknown:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{unknown[0]}: unknown key")
    url = data.get("callbackURL")
    if not isinstance(url, str) or not url:
        raise DipError(Msg.SCHEMA_FAILURE, "$.callbackURL: must be an absolute http or https URL")
    # The webhook guard (participants/urls.py) then checks the URL itself, when it is stored.
    count = _positive_int(data, "maxMessageCount", 1000)
    size = _positive_int(data, "maxPayloadSize", hub_limit_kb, " (KB)")
    return url, count, size


def _positive_int(data: dict[str, Any], key: str, ceiling: int, unit: str = "") -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= ceiling:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: must be a whole number from 1 to {ceiling}{unit}")
    return value


class ParticipantCreate(Body):
    """`POST /admin/participants`: with a CSR the participant keeps its key; without one the hub makes one."""

    dip_id: str = Field(alias="dipId")
    role: str
    name: str
    organisation: str | None = Field(None, max_length=40)
    mpid: str | None = Field(None, max_length=4)
    webhook: str | None = Field(None, max_length=2048)
    dcp_for: list[str] | None = Field(None, alias="dcpFor")
    csr: str | None = Field(None, max_length=20_000)
    certificate_days: int | None = Field(None, alias="certificateDays")


class ParticipantUpdate(Body):
    """`PATCH /admin/participants/{dipId}`: only what is sent changes; `webhook: null` removes it."""

    name: str | None = Field(None, max_length=200)
    webhook: str | None = Field(None, max_length=2048)
    organisation: str | None = Field(None, max_length=40)
    mpid: str | None = Field(None, max_length=4)
    dcp_for: list[str] | None = Field(None, alias="dcpFor")

    @property
    def needs(self) -> Permission:
        """Who the participant belongs to and whom it connects for is the operator's; the rest its own admins'."""
        if self.sent("organisation", "mpid", "dcpFor"):
            return Permission.MANAGE_PARTICIPANTS
        return Permission.EDIT_PARTICIPANTS


class Limits(Body):
    rate_per_second: float | None = Field(None, alias="ratePerSecond")
    burst: int | None = None
    daily_quota: int | None = Field(None, alias="dailyQuota")


class KeyRotation(Body):
    overlap_seconds: float | None = Field(None, alias="overlapSeconds")


class Proving(Body):
    received_within_seconds: float | None = Field(None, alias="receivedWithinSeconds")
    wait_seconds: float | None = Field(None, alias="waitSeconds", ge=0, le=120)


class OrganisationCreate(Body):
    id: str
    name: str
    mpids: list[str] | None = None
    contacts: list[dict[str, Any]] | None = None


class OrganisationUpdate(Body):
    """Operators change anything; a Primary User Admin keeps their own organisation's contacts current."""

    name: str | None = Field(None, max_length=200)
    add_mpids: list[str] | None = Field(None, alias="addMpids")
    contacts: list[dict[str, Any]] | None = None

    @property
    def needs(self) -> Permission:
        return Permission.MANAGE_PARTICIPANTS if self.sent("name", "addMpids") else Permission.EDIT_PARTICIPANTS


NewParticipant = Annotated[ParticipantCreate, admin_body(ParticipantCreate)]
ParticipantChange = Annotated[ParticipantUpdate, admin_body(ParticipantUpdate)]
LimitsBody = Annotated[Limits, admin_body(Limits)]
KeyRotationBody = Annotated[KeyRotation, admin_body(KeyRotation)]
ProvingBody = Annotated[Proving, admin_body(Proving)]
NewOrganisation = Annotated[OrganisationCreate, admin_body(OrganisationCreate)]
OrganisationChange = Annotated[OrganisationUpdate, admin_body(OrganisationUpdate)]
