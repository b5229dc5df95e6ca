"""Request bodies of the test-tracking API (a plan file's own shapes are read by `tracking.plan`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from opendip.accounts.dependencies import admin_body
from opendip.core.validation import Body


class Cohort(Body):
    """A cohort as in a plan file; its names and dates are then checked by `plan.cohort_of`."""

    name: str
    phase: str
    starts: str
    ends: str
    title: str | None = None
    role: str | None = None
    environment: str | None = None
    members: list[str] | str | None = None


class Run(Body):
    case: str = Field(max_length=40)
    dip_id: str = Field(alias="dipId", max_length=40)
    status: str = Field(max_length=12)
    note: str = Field(max_length=20_000)
    evidence: str | None = Field(None, max_length=2000)
    environment: str | None = Field(None, max_length=40)


class Defect(Body):
    title: str = Field(max_length=200)
    severity: int | str
    description: str | None = Field(None, max_length=20_000)
    owner: str | None = Field(None, max_length=120)
    case: str | None = Field(None, max_length=40)
    run: int | None = None
    transaction_id: str | None = Field(None, alias="transactionId", max_length=64)
    dip_id: str | None = Field(None, alias="dipId", max_length=40)
    cohort: str | None = Field(None, max_length=40)


class DefectMove(Body):
    to: str = Field(max_length=16)
    note: str | None = Field(None, max_length=20_000)
    owner: str | None = Field(None, max_length=120)


CohortBody = Annotated[Cohort, admin_body(Cohort)]
RunBody = Annotated[Run, admin_body(Run)]
DefectBody = Annotated[Defect, admin_body(Defect)]
DefectMoveBody = Annotated[DefectMove, admin_body(DefectMove)]
