"""Tables of test tracking: phases with their criteria, test cases, cohorts, runs and defects.

Runs are append-only: a participant's result for a case is its newest run, and
the history of every attempt stays. Criteria are kept as data (JSON) on the
phase, so a programme changes its gates without a code change.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class PhaseRow(Base):
    __tablename__ = "test_phases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    entry_criteria: Mapped[str] = mapped_column(Text)
    exit_criteria: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Double)


class CaseRow(Base):
    __tablename__ = "test_cases"
    __table_args__ = (Index("ix_test_cases_phase", "phase"),)

    case_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(40))
    process: Mapped[str] = mapped_column(String(120))
    interfaces: Mapped[str] = mapped_column(Text)
    scenarios: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[float] = mapped_column(Double)


class CohortRow(Base):
    __tablename__ = "test_cohorts"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(40))
    role: Mapped[str | None] = mapped_column(String(5), nullable=True)
    environment: Mapped[str | None] = mapped_column(String(40), nullable=True)
    starts: Mapped[str] = mapped_column(String(10))
    ends: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[float] = mapped_column(Double)


class MemberRow(Base):
    __tablename__ = "test_cohort_members"

    cohort: Mapped[str] = mapped_column(String(40), primary_key=True)
    dip_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    added_at: Mapped[float] = mapped_column(Double)


class RunRow(Base):
    """One result of one case for one participant: from a scenario run's evidence, or recorded by hand."""

    __tablename__ = "test_runs"
    __table_args__ = (Index("ix_test_runs_case_dip", "case_id", "dip_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40))
    dip_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    environment: Mapped[str | None] = mapped_column(String(40), nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    transaction_ids: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(120))


class DefectRow(Base):
    __tablename__ = "test_defects"
    __table_args__ = (Index("ix_test_defects_state", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    run_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dip_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cohort: Mapped[str | None] = mapped_column(String(40), nullable=True)
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    raised_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    closed_at: Mapped[float | None] = mapped_column(Double, nullable=True)


test_phases = cast(Table, PhaseRow.__table__)
test_cases = cast(Table, CaseRow.__table__)
test_cohorts = cast(Table, CohortRow.__table__)
test_cohort_members = cast(Table, MemberRow.__table__)
test_runs = cast(Table, RunRow.__table__)
test_defects = cast(Table, DefectRow.__table__)
