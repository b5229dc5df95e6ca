"""Batches finishing together are settled in one write; a faulty batch never costs its neighbours their outcomes."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

import pytest
from sqlalchemy.exc import IntegrityError

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery.attempts import Attempt
from opendip.delivery.client import HttpResult
from opendip.delivery.message_kind import MessageKind
from opendip.delivery.outbox import Settled
from opendip.delivery.outcome import classify
from opendip.delivery.outcome_queue import OutcomeQueue
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.settle import settle
from tests.delivery.conftest import Store
from tests.delivery.seed import add_messages, states

R1 = "2300000901"
IF = "IF-043"
OWNER = "worker-a"


@pytest.fixture
def db(any_store: Store) -> Database:
    return any_store.db


def _batches(db: Database, settings: Settings, count: int) -> list[list[Settled]]:
    """Three claimed batches of `count` rows each, settled as delivered (not yet written)."""
    add_messages(db, R1, 3 * count)
    kind = MessageKind(db, settings)
    rows = kind.repository.claim([((R1, IF), 3 * count)], OWNER, lease_seconds=600)[(R1, IF)]
    now, policy = time.time(), RetryPolicy.from_settings(settings)
    batches = []
    for start in range(0, len(rows), count):
        part = rows[start : start + count]
        verdict = classify(HttpResult(status=201), [row.transaction_id for row in part])
        batches.append(settle(part, verdict.outcomes, Attempt(now, now, 201), policy, kind.wording))
    return batches


def _writer(db: Database, settings: Settings, writes: list[int]) -> OutcomeQueue:
    repository = MessageKind(db, settings).repository

    def write(outcomes: Sequence[Settled], owner: str) -> None:
        writes.append(len(outcomes))
        repository.record(outcomes, owner)

    return OutcomeQueue(write, OWNER)


def test_batches_queued_together_are_written_in_one_hop(db: Database, settings: Settings) -> None:
    batches = _batches(db, settings, 4)
    writes: list[int] = []
    queue = _writer(db, settings, writes)

    async def settle_all() -> None:
        await asyncio.gather(*(queue.record(batch) for batch in batches))

    asyncio.run(settle_all())
    assert writes == [12]
    assert set(states(db, R1).values()) == {"delivered"}


def test_a_failing_batch_is_written_alone_and_its_neighbours_still_are(db: Database, settings: Settings) -> None:
    first, bad, last = _batches(db, settings, 2)
    broken = [dataclasses.replace(s, journal=[{**s.journal[0], "transaction_id": None}]) for s in bad]
    writes: list[int] = []
    queue = _writer(db, settings, writes)

    async def settle_all() -> list[BaseException | None]:
        return await asyncio.gather(*(queue.record(b) for b in (first, broken, last)), return_exceptions=True)

    results = asyncio.run(settle_all())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], IntegrityError)
    assert writes == [6, 2, 2, 2]  # together, then each on its own
    by_tx = states(db, R1)
    assert sorted(by_tx.values()) == ["delivered"] * 4 + ["pending"] * 2
