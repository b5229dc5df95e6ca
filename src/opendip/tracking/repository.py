"""Queries of test tracking. Every function takes a connection; the service owns the transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from opendip.tracking.tables import test_cases, test_cohort_members, test_cohorts, test_defects, test_phases, test_runs

RUN = test_runs.c
DEFECT = test_defects.c


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(query).mappings()]


def _one(conn: Connection, query: Any) -> dict[str, Any] | None:
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def _upsert(conn: Connection, table: Any, key: str, row: dict[str, Any]) -> bool:
    """Insert or replace by primary key; True when the row is new."""
    column = table.c[key]
    found = conn.execute(select(column).where(column == row[key])).first()
    if found is None:
        conn.execute(table.insert().values(**row))
        return True
    conn.execute(update(table).where(column == row[key]).values(**row))
    return False


def upsert_phase(conn: Connection, row: dict[str, Any]) -> bool:
    if "position" not in row:
        row = {**row, "position": int(conn.execute(select(func.count()).select_from(test_phases)).scalar() or 0)}
    return _upsert(conn, test_phases, "name", row)


def phases(conn: Connection) -> list[dict[str, Any]]:
    return _rows(conn, select(test_phases).order_by(test_phases.c.position, test_phases.c.name))


def phase(conn: Connection, name: str) -> dict[str, Any] | None:
    return _one(conn, select(test_phases).where(test_phases.c.name == name))


def upsert_case(conn: Connection, row: dict[str, Any]) -> bool:
    return _upsert(conn, test_cases, "case_id", row)


def cases(conn: Connection, phase: str | None = None) -> list[dict[str, Any]]:
    query = select(test_cases).order_by(test_cases.c.case_id)
    if phase is not None:
        query = query.where(test_cases.c.phase == phase)
    return _rows(conn, query)


def case(conn: Connection, case_id: str) -> dict[str, Any] | None:
    return _one(conn, select(test_cases).where(test_cases.c.case_id == case_id))


def upsert_cohort(conn: Connection, row: dict[str, Any]) -> bool:
    return _upsert(conn, test_cohorts, "name", row)


def cohorts(conn: Connection) -> list[dict[str, Any]]:
    return _rows(conn, select(test_cohorts).order_by(test_cohorts.c.starts, test_cohorts.c.name))


def cohort(conn: Connection, name: str) -> dict[str, Any] | None:
    return _one(conn, select(test_cohorts).where(test_cohorts.c.name == name))


def set_members(conn: Connection, cohort: str, dip_ids: list[str], at: float) -> list[str]:
    """Add members (kept ones stay); returns the DIP IDs that were new."""
    m = test_cohort_members.c
    have = {row[0] for row in conn.execute(select(m.dip_id).where(m.cohort == cohort))}
    new = [d for d in dict.fromkeys(dip_ids) if d not in have]
    for dip_id in new:
        conn.execute(test_cohort_members.insert().values(cohort=cohort, dip_id=dip_id, added_at=at))
    return new


def remove_member(conn: Connection, cohort: str, dip_id: str) -> bool:
    m = test_cohort_members.c
    return bool(conn.execute(delete(test_cohort_members).where(m.cohort == cohort, m.dip_id == dip_id)).rowcount)


def members(conn: Connection) -> dict[str, list[str]]:
    m = test_cohort_members.c
    found: dict[str, list[str]] = {}
    for cohort_name, dip_id in conn.execute(select(m.cohort, m.dip_id).order_by(m.cohort, m.dip_id)):
        found.setdefault(cohort_name, []).append(dip_id)
    return found


def insert_run(conn: Connection, row: dict[str, Any]) -> int:
    found = conn.execute(test_runs.insert().values(**row)).inserted_primary_key
    assert found is not None
    return int(found[0])


def run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    return _one(conn, select(test_runs).where(RUN.id == run_id))


def runs(conn: Connection, *, case_id: str | None = None, dip_id: str | None = None) -> list[dict[str, Any]]:
    """Oldest first, so the last row seen for a (case, participant) is its newest result."""
    query = select(test_runs).order_by(RUN.id)
    if case_id is not None:
        query = query.where(RUN.case_id == case_id)
    if dip_id is not None:
        query = query.where(RUN.dip_id == dip_id)
    return _rows(conn, query)


def insert_defect(conn: Connection, row: dict[str, Any]) -> str:
    """Store a defect and give it its reference (DEF-0001) from its row id."""
    new_id = conn.execute(test_defects.insert().values(ref=uuid.uuid4().hex[:16], **row)).inserted_primary_key
    assert new_id is not None
    ref = f"DEF-{new_id[0]:04d}"
    conn.execute(update(test_defects).where(DEFECT.id == new_id[0]).values(ref=ref))
    return ref


def defect(conn: Connection, ref: str, *, for_update: bool = False) -> dict[str, Any] | None:
    query = select(test_defects).where(DEFECT.ref == ref)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return _one(conn, query)


def defects(
    conn: Connection, *, states: tuple[str, ...] | None = None, case_id: str | None = None
) -> list[dict[str, Any]]:
    query = select(test_defects).order_by(DEFECT.id)
    if states is not None:
        query = query.where(DEFECT.state.in_(states))
    if case_id is not None:
        query = query.where(DEFECT.case_id == case_id)
    return _rows(conn, query)


def update_defect(conn: Connection, defect_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(test_defects).where(DEFECT.id == defect_id).values(**values))
