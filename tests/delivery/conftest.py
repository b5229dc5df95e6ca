"""Delivery fixtures: a real migrated database, real certificates, real webhook receivers.

Independent of tests/conftest.py on purpose: these tests must run alone
(`pytest tests/delivery`) and say loudly when PostgreSQL was not there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.delivery import DeliveryWorker
from opendip.pki import SignatureVerifier, Signer, TrustStore, ensure_hub_identity
from tests.delivery.receivers import Receiver
from tests.helpers.databases import PG_DSN, postgres_available
from tests.helpers.missing import not_here


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Identity:
    signer: Signer
    trust: TrustStore


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory) -> Identity:
    """The hub's signing certificate, issued by a real test CA (RSA keys are slow: once per run)."""
    pki_dir = tmp_path_factory.mktemp("pki")
    cert, key = ensure_hub_identity(pki_dir, "0000000000")
    return Identity(Signer.from_files(cert, key), TrustStore.from_pem_files([pki_dir / "ca.pem"]))


@pytest.fixture
def signer(identity: Identity) -> Signer:
    return identity.signer


@dataclass(frozen=True)
class Store:
    """One migrated database; `open()` gives another connection pool onto it (another 'process')."""

    db: Database
    open: Callable[[], Database]


def _sqlite(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'opendip.db'}"
    db = Database.from_url(url)
    upgrade(db.engine)
    try:
        yield Store(db, lambda: Database.from_url(url))
    finally:
        db.dispose()


def _postgres() -> Iterator[Store]:
    """A throwaway schema selected through search_path (set as a connect option, not in the URL)."""
    if not postgres_available():
        not_here(f"PostgreSQL at {PG_DSN} did not answer: the PostgreSQL delivery tests are SKIPPED")
    schema = f"t_delivery_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")

    def open_db() -> Database:
        url = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url, pool_size=5, connect_args={"options": f"-csearch_path={schema}"})
        return Database(engine)

    db = open_db()
    try:
        upgrade(db.engine)
        yield Store(db, open_db)
    finally:
        db.dispose()
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite, the embedded default."""
    yield from _sqlite(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """SQLite and PostgreSQL; PostgreSQL is skipped with a warning only when no server answers."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    else:
        yield from _postgres()


@pytest.fixture
def db(store: Store) -> Database:
    return store.db


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Tiny schedules so retries and breakers play out in milliseconds."""
    return Settings(
        data_dir=tmp_path / "data",
        retry_schedule=(0.0, 0.05, 0.1),
        retry_jitter=0.0,
        delivery_timeout_seconds=30.0,  # generous: only the timeout test wants it to fire, and it sets its own
        delivery_poll_seconds=0.02,
        delivery_lease_seconds=60.0,
        delivery_concurrency_per_recipient=2,
        breaker_failure_threshold=3,
        breaker_cooldown_seconds=30.0,
    )


@pytest.fixture
async def receivers(identity: Identity) -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    """Factory of started receivers; each is closed at the end of the test."""
    made: list[Receiver] = []

    async def make(path: str = "/hook") -> Receiver:
        receiver = await Receiver(SignatureVerifier(identity.trust), path).start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        await receiver.close()


@pytest.fixture
async def workers(db: Database, settings: Settings, signer: Signer) -> AsyncIterator[Callable[..., DeliveryWorker]]:
    """Factory of DeliveryWorkers (on `db` and `settings` unless given); all stopped at the end."""
    made: list[DeliveryWorker] = []

    def make(**options: Any) -> DeliveryWorker:
        worker = DeliveryWorker(options.pop("db", db), options.pop("settings", settings), signer, **options)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop(timeout=2.0)
