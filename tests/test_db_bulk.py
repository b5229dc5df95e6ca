"""Bulk inserts on the hot paths: rows as the driver gets them, defaults as Core fills them, conflicts counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, UniqueConstraint, select

from opendip.db.bulk import BulkInsert
from opendip.db.engine import Database

metadata = MetaData()
things = Table(
    "bulk_things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(10), nullable=False),
    Column("ref", String(20), nullable=False),
    Column("flag", Boolean, default=False),
    Column("note", String(20), nullable=True),
    UniqueConstraint("owner", "ref"),
)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    metadata.create_all(database.engine)
    yield database
    database.dispose()


def stored(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(things.c.owner, things.c.ref, things.c.flag, things.c.note))]


def test_rows_go_in_with_missing_keys_taking_the_column_default(db: Database) -> None:
    insert = BulkInsert(things)
    with db.begin() as conn:
        written = insert.run(conn, [{"owner": "a", "ref": "1", "flag": True, "note": "n"}, {"owner": "a", "ref": "2"}])
    assert written == 2
    assert sorted(stored(db)) == [("a", "1", True, "n"), ("a", "2", False, None)]


def test_a_repeated_key_is_skipped_and_the_count_says_so(db: Database) -> None:
    insert = BulkInsert(things, columns=("owner", "ref"), on_conflict_do_nothing=("owner", "ref"))
    with db.begin() as conn:
        assert insert.run(conn, [{"owner": "a", "ref": "1"}]) == 1
    with db.begin() as conn:  # one already stored, one repeated within the rows, one new
        rows = [{"owner": "a", "ref": "1"}, {"owner": "b", "ref": "1"}, {"owner": "b", "ref": "1"}]
        assert insert.run(conn, rows) == 1
    assert sorted(r[:2] for r in stored(db)) == [("a", "1"), ("b", "1")]


def test_nothing_to_insert_writes_nothing(db: Database) -> None:
    with db.begin() as conn:
        assert BulkInsert(things).run(conn, []) == 0
    assert stored(db) == []


def test_a_single_column_insert_and_unknown_columns() -> None:
    assert BulkInsert(things, columns=("owner",)).rows([{"owner": "x", "ref": "y"}]) == [("x",)]
    with pytest.raises(ValueError, match="no column nope"):
        BulkInsert(things, on_conflict_do_nothing=("nope",))
