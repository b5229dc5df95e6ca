"""Request bodies of the governance API, checked with the JSON path of anything wrong."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from opendip.accounts.dependencies import admin_body
from opendip.core.validation import Body, checked
from opendip.errors import DipError, Msg
from opendip.governance.classification import Assessment

ASSESSMENT_NUMBERS = ("cost_dip_manager_gbp", "cost_users_gbp", "duration_months")
ASSESSMENT_FLAGS = ("new_obligations", "changes_message_definitions", "affects_parties")


class Acting(Body):
    """Every step on a change request names the governance role it is taken in."""

    acting_as: str = Field(alias="as", max_length=24)


class RaiseRequest(Acting):
    title: str = Field(max_length=200)
    description: str | None = Field(None, max_length=20_000)


class MoveRequest(Acting):
    to: str = Field(max_length=24)
    note: str | None = Field(None, max_length=20_000)


class Comment(Acting):
    text: str = Field(max_length=20_000)


class Figures(Body):
    """The impact assessment's figures: non-negative numbers and true/false flags."""

    cost_dip_manager_gbp: float = Field(0.0, ge=0)
    cost_users_gbp: float = Field(0.0, ge=0)
    duration_months: float = Field(0.0, ge=0)
    new_obligations: bool = False
    changes_message_definitions: bool = False
    affects_parties: bool = True

    def assessment(self) -> Assessment:
        return Assessment(**{name: getattr(self, name) for name in (*ASSESSMENT_NUMBERS, *ASSESSMENT_FLAGS)})


class Classification(Acting, Figures):
    """`POST .../classification`: the role, then the figures the class follows from."""


class Promote(Body):
    version: str = Field(max_length=40)
    environment: str = Field(max_length=10)
    effective: float | None = None
    lookback_days: float | None = Field(None, alias="lookbackDays")


class Rollback(Body):
    environment: str = Field(max_length=10)


RaiseBody = Annotated[RaiseRequest, admin_body(RaiseRequest)]
MoveBody = Annotated[MoveRequest, admin_body(MoveRequest)]
CommentBody = Annotated[Comment, admin_body(Comment)]
ClassificationBody = Annotated[Classification, admin_body(Classification)]
PromoteBody = Annotated[Promote, admin_body(Promote)]
RollbackBody = Annotated[Rollback, admin_body(Rollback)]


def form_assessment(form: dict[str, str]) -> Assessment:
    """The same figures from a portal form (numbers as text, flags as ticked boxes)."""
    data: dict[str, object] = {}
    for key in ASSESSMENT_NUMBERS:
        text = form.get(key, "").strip() or "0"
        try:
            data[key] = float(text.replace(",", ""))
        except ValueError:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: a number; got {text!r}") from None
    for key in ASSESSMENT_FLAGS:
        data[key] = key in form
    return checked(Figures, data).assessment()
