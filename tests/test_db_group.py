"""Group commit: many threads' writes in one transaction, each answered only once committed, faults isolated."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select

from opendip.db.engine import Database
from opendip.db.group import GroupCommit

metadata = MetaData()
items = Table(
    "group_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("txn", Integer, nullable=False),
)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    metadata.create_all(database.engine)
    yield database
    database.dispose()


def stored(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {row.name: row.txn for row in conn.execute(select(items.c.name, items.c.txn))}


class Writer:
    """Writes one row per item, tagged with its transaction; the first transaction waits until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.transactions: list[Connection] = []  # kept alive, so that no two share an id()
        self.lock = threading.Lock()

    def __call__(self, conn: Connection, name: str) -> None:
        with self.lock:
            if not any(seen is conn and seen.in_transaction() for seen in self.transactions[-1:]):
                self.transactions.append(conn)
            txn = len(self.transactions) - 1
        if name == "bad":
            raise ValueError("a bad row")
        conn.execute(items.insert().values(name=name, txn=txn))
        if txn == 0:
            self.entered.set()
            assert self.release.wait(60)


def commit_in_threads(group: GroupCommit[str], names: list[str]) -> dict[str, object]:
    outcome: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            outcome[name] = group.commit(name)
        except Exception as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    outcome["_threads"] = threads
    return outcome


def wait_all(outcome: dict[str, object]) -> None:
    for thread in outcome.pop("_threads"):  # type: ignore[attr-defined]
        thread.join(60)


def test_callers_queued_behind_a_write_share_the_next_transaction(db: Database) -> None:
    writer = Writer()
    group: GroupCommit[str] = GroupCommit(db, writer)
    first = commit_in_threads(group, ["first"])
    assert writer.entered.wait(60)
    later = commit_in_threads(group, [f"m{i}" for i in range(8)])
    with group._cond:  # the eight are queued while the first transaction is still open
        while len(group._queue) < 8:
            group._cond.wait(0.05)
    writer.release.set()
    wait_all(first)
    wait_all(later)
    assert first == {"first": True} and later == {f"m{i}": True for i in range(8)}
    rows = stored(db)
    assert rows["first"] == 0
    assert {rows[f"m{i}"] for i in range(8)} == {1}, "the queued callers went in one transaction"


def test_a_bad_item_fails_only_its_own_caller(db: Database) -> None:
    writer = Writer()
    group: GroupCommit[str] = GroupCommit(db, writer)
    first = commit_in_threads(group, ["first"])
    assert writer.entered.wait(60)
    later = commit_in_threads(group, ["a", "bad", "b"])
    with group._cond:
        while len(group._queue) < 3:
            group._cond.wait(0.05)
    writer.release.set()
    wait_all(first)
    wait_all(later)
    assert later == {"a": False, "bad": False, "b": False}, "the shared transaction was rolled back whole"
    assert set(stored(db)) == {"first"}
    assert group.commit("a") is True and group.commit("b") is True  # each caller on its own now
    with pytest.raises(ValueError, match="a bad row"):
        group.commit("bad")
    assert set(stored(db)) == {"first", "a", "b"}


def test_a_lone_caller_writes_at_once_and_gets_its_own_error(db: Database) -> None:
    writer = Writer()
    writer.release.set()
    group: GroupCommit[str] = GroupCommit(db, writer)
    assert group.commit("only") is True
    assert stored(db) == {"only": 0}
    with pytest.raises(ValueError):
        group.commit("bad")


def test_a_transaction_holds_at_most_max_size(db: Database) -> None:
    writer = Writer()
    group: GroupCommit[str] = GroupCommit(db, writer, size=lambda name: 2, max_size=4)
    first = commit_in_threads(group, ["first"])
    assert writer.entered.wait(60)
    later = commit_in_threads(group, [f"m{i}" for i in range(5)])
    with group._cond:
        while len(group._queue) < 5:
            group._cond.wait(0.05)
    writer.release.set()
    wait_all(first)
    wait_all(later)
    assert all(later[f"m{i}"] is True for i in range(5))
    per_transaction: dict[int, int] = {}
    for name, txn in stored(db).items():
        if name != "first":
            per_transaction[txn] = per_transaction.get(txn, 0) + 1
    assert sorted(per_transaction.values()) == [1, 2, 2]
