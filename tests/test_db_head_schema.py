"""An empty store created at head (metadata + rules + stamp) has exactly the schema the migrations build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.migrate import MIGRATIONS, alembic_config, at_head, head_revision, upgrade
from opendip.db.migrations.head import METADATA
from tests.helpers.databases import database_url

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _differences(conn: Connection) -> list[Any]:
    """Alembic's autogenerate comparison against the metadata: tables, columns, types, defaults, indexes.

    The journal's partitions (PostgreSQL) are not tables of the metadata: they are compared in the snapshot."""
    parts = set(journal_days.partitions(conn)) if conn.dialect.name == "postgresql" else set()

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return not (type_ == "table" and name in parts)

    opts = {"compare_type": True, "compare_server_default": True, "include_name": include_name}
    context = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(context, METADATA))


def _rules(conn: Connection) -> list[tuple[str, ...]]:
    """What the metadata does not hold: triggers (and on PostgreSQL the functions they run)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return sorted((name, table, " ".join(sql.split())) for name, table, sql in rows)
    triggers = conn.execute(
        text(
            "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
        )
    )
    functions = conn.execute(
        text("SELECT proname, prosrc FROM pg_proc WHERE pronamespace = current_schema()::regnamespace")
    )
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()  # each store has its own
    named = [("trigger", n, d.replace(f" {schema}.", " ")) for n, d in triggers]
    return sorted(named + [("function", n, s) for n, s in functions])


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's columns, keys, indexes and constraints as the database reports them, in a comparable form."""
    with engine.connect() as conn:
        found = inspect(conn)
        uniques = found.get_unique_constraints
        tables: dict[str, Any] = {}
        for name in sorted(found.get_table_names()):
            tables[name] = {
                "columns": sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in found.get_columns(name)
                ),
                "primary key": found.get_pk_constraint(name)["constrained_columns"],
                "foreign keys": sorted(
                    (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                    for fk in found.get_foreign_keys(name)
                ),
                "indexes": sorted(
                    (
                        i["name"],
                        tuple(str(c) for c in i["column_names"]),
                        i["unique"],
                        repr(sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items())),
                    )
                    for i in found.get_indexes(name)
                ),
                "unique": sorted((u["name"] or "", tuple(u["column_names"])) for u in uniques(name)),
                "checks": sorted((c["name"] or "", c["sqltext"]) for c in found.get_check_constraints(name)),
            }
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return {"tables": tables, "rules": _rules(conn), "version": version, "differences": _differences(conn)}


@pytest.mark.parametrize("store", STORES)
def test_an_empty_store_created_at_head_equals_the_migrated_one(store: str, tmp_path: Path) -> None:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with database_url(store, tmp_path / "a") as migrated_url, database_url(store, tmp_path / "b") as created_url:
        migrated, created = Database.from_url(migrated_url), Database.from_url(created_url)
        try:
            command.upgrade(alembic_config(migrated.engine), "head")  # every migration, one after another
            upgrade(created.engine)  # empty: created from the metadata in one step
            old, new = _snapshot(migrated.engine), _snapshot(created.engine)
        finally:
            migrated.dispose()
            created.dispose()
    assert old["differences"] == [] and new["differences"] == []
    assert old["version"] == new["version"] == [head]
    assert set(new["tables"]) == set(old["tables"]) and len(new["tables"]) > 40
    for table, shape in old["tables"].items():
        assert new["tables"][table] == shape, table
    assert new["rules"] == old["rules"] and len(old["rules"]) >= 2


@pytest.mark.parametrize("store", STORES)
def test_a_store_with_tables_is_upgraded_by_its_migrations(store: str, tmp_path: Path) -> None:
    """Created at head, taken back two revisions, brought forward again: Alembic runs, not the one-step create."""
    with database_url(store, tmp_path) as url:
        db = Database.from_url(url)
        try:
            upgrade(db.engine)
            command.downgrade(alembic_config(db.engine), "-2")
            with db.engine.connect() as conn:
                behind = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            upgrade(db.engine)
            after = _snapshot(db.engine)
        finally:
            db.dispose()
    assert behind != after["version"][0] and after["differences"] == []


def test_the_head_read_from_the_version_files_is_alembics() -> None:
    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head() is not None


@pytest.mark.parametrize("store", STORES)
def test_a_store_at_head_is_opened_without_alembic(store: str, tmp_path: Path) -> None:
    """Every CLI run opens the store: at head it neither imports Alembic nor migrates; one behind, it does."""
    with database_url(store, tmp_path) as url:
        db = Database.from_url(url)
        try:
            upgrade(db.engine)
            assert at_head(db.engine)
            opened = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from opendip.db.engine import Database; from opendip.db.migrate import upgrade; "
                    f"db = Database.from_url({url!r}); upgrade(db.engine); db.dispose(); "
                    "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            command.downgrade(alembic_config(db.engine), "-1")
            assert not at_head(db.engine)
            upgrade(db.engine)
            assert at_head(db.engine)
        finally:
            db.dispose()
    assert opened.stdout.strip() == "[]"
