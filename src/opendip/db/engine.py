"""Engine creation: SQLite in WAL mode by default, PostgreSQL through psycopg 3.

On SQLite every transaction starts with BEGIN IMMEDIATE so that concurrent
writers queue on the busy timeout instead of failing when a read lock cannot
be upgraded; a process-local gate keeps our own threads from contending at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

log = structlog.get_logger(__name__)
T = TypeVar("T")
_DEFERRED = "opendip.deferred"


def deferred(conn: Connection, key: str, new: Callable[[], T], flush: Callable[[Connection, T], None]) -> T | None:
    """State a writer keeps until its transaction ends, handed to `flush(conn, state)` just before the commit.

    For a transaction opened by `Database.begin` (None otherwise: the caller writes at once). Writes to a
    few hot rows (hourly counts) then come last and once per transaction, in one order, whatever its
    batches: every transaction locks them in the same order, for the shortest time.
    """
    kept: dict[str, tuple[Any, Callable[[Connection, Any], None]]] | None = conn.info.get(_DEFERRED)
    if kept is None:
        return None
    found = kept.get(key)
    if found is None:
        found = kept[key] = (new(), flush)
    return found[0]


@contextmanager
def _flushing(conn: Connection) -> Iterator[None]:
    kept: dict[str, tuple[Any, Callable[[Connection, Any], None]]] = {}
    # the dict itself is kept: a connection the store dropped mid-transaction is invalid, and asking it for
    # `info` again would raise PendingRollbackError in place of the OperationalError that answers 503
    info = conn.info
    info[_DEFERRED] = kept
    try:
        yield
        for state, flush in kept.values():
            flush(conn, state)
    finally:
        info.pop(_DEFERRED, None)


def make_engine(url: str, *, pool_size: int = 10, background_checkpoints: bool = False) -> Engine:
    """`background_checkpoints` (SQLite): commits never checkpoint the WAL; `Database` does it in a thread."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, background_checkpoints)
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    # `pool_size` connections stay open between requests; a burst may open more, closed again as they come back
    return create_engine(url, pool_size=pool_size, max_overflow=max(pool_size, 10), pool_pre_ping=True)


def _sqlite_engine(url: str, background_checkpoints: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class WriterGate:
    """SQLite's single writer, shared fairly: urgent writers go before ordinary ones.

    Under a flood of accepted batches the delivery worker's claims and outcomes
    would otherwise queue behind every ingest transaction and the outbox would
    only grow; letting the consumer of the outbox through first is the
    back-pressure that keeps accepted and delivered rates together.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._urgent_waiting = 0

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        with self._cond:
            self._urgent_waiting += urgent
            try:
                while self._held or (not urgent and self._urgent_waiting):
                    self._cond.wait()
            finally:
                self._urgent_waiting -= urgent
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()


class Database:
    """The engine plus the one way to open a transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._gate = WriterGate() if self.is_sqlite else None
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None

    @classmethod
    def from_url(cls, url: str, *, background_checkpoints: bool = False, pool_size: int = 10) -> Database:
        """With `background_checkpoints` on SQLite, a thread copies the WAL into the database file.

        SQLite otherwise checkpoints inside whichever commit crosses the WAL size
        threshold, and that commit (an accepted batch waiting for its 201) pays
        for writing back and syncing everyone's pages. Long-running processes
        (the hub) move that work off the request path; short CLI runs keep the default.
        """
        db = cls(make_engine(url, background_checkpoints=background_checkpoints, pool_size=pool_size))
        if background_checkpoints and db.is_sqlite:
            db._checkpointer = threading.Thread(target=db._checkpoint_loop, name="wal-checkpoint", daemon=True)
            db._checkpointer.start()
        return db

    def _checkpoint_loop(self, interval: float = 0.5) -> None:
        while not self._stop_checkpoints.wait(interval):
            try:
                self.checkpoint()
            except Exception as exc:  # a full or read-only disk: the next round tries again once it is back
                log.warning("WAL checkpoint failed", error=str(exc)[:200])

    def checkpoint(self) -> None:
        """A PASSIVE checkpoint: copies what it can without waiting for or blocking writers."""
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
        finally:
            raw.close()

    @contextmanager
    def begin(self, *, urgent: bool = False) -> Iterator[Connection]:
        """A transaction; `urgent` ones (draining the outbox) go first when SQLite writers queue.

        What a writer deferred to the end of it (`deferred`) is flushed just before it commits.
        """
        if self._gate is None:
            with self.engine.begin() as conn, _flushing(conn):
                yield conn
            return
        with self._gate.hold(urgent), self.engine.begin() as conn, _flushing(conn):
            yield conn

    def ping(self) -> None:
        """One round trip to the store (readiness): raises whatever the store's fault is.

        Through the driver's own connection, outside any transaction: on SQLite a transaction of the
        hub's engine starts BEGIN IMMEDIATE, and readiness would wait behind any writer (up to the
        busy timeout) and report a busy hub as down."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        finally:
            raw.close()

    def dispose(self) -> None:
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
            self.checkpoint()
        self.engine.dispose()
