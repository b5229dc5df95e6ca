"""SIGKILL mid-batch and mid-requeue: the hub never makes a second delivery of its own accord.

At-least-once means a batch in flight when the process died is sent again
after the restart, with the same transactionIDs. Nothing else may repeat:
no message gets a second outbox row, and a requeue interrupted half-way
resumes where its last committed chunk ended.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import Cast
from tests.helpers.hub import HubProcess
from tests.status.support import SUP, ctc, get, post_json, send, start_cast, wait_for

BATCH = 20


@pytest.fixture
def crash_cast(hub: HubProcess, receiver_factory) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    # A short lease (just over the 3 s delivery timeout) so the dead process's batches come back soon.
    yield start_cast(hub, receiver_factory, requeue_chunk="1", delivery_lease_seconds="3.5")


def counts(cast: Cast) -> Counter[str]:
    return Counter(
        m["payload"]["CommonBlock"]["D0"]["transactionID"]
        for r in cast.sup_receiver.received
        if r.path == "/slow"
        for m in r.messages
    )


def scalar(cast: Cast, sql: str) -> Any:
    with cast.hub.db.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_killed_workers_resend_only_the_batch_in_flight_and_requeues_resume(crash_cast: Cast) -> None:
    cast = crash_cast

    async def slow(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        await asyncio.sleep(0.25)
        return accept_all(messages)

    cast.sup_receiver.set_behaviour(slow)
    with cast.client(cast.sup) as sup:
        assert sup.set_webhook("IF-043", SUP, cast.sup_receiver.url("/slow"), maxMessageCount=BATCH).status_code == 201
    with cast.client(cast.regs) as regs:
        accepted = [tx for b in range(3) for tx in send(regs, [ctc(b * 100 + i) for i in range(100)])]

    wait_for(lambda: sum(counts(cast).values()) >= 3 * BATCH, what="some batches delivered")
    cast.hub.kill()
    seen_at_kill = set(counts(cast))
    with cast.hub.db.engine.connect() as conn:
        done = {
            r[0]
            for r in conn.execute(
                text(f"SELECT transaction_id FROM deliveries WHERE state = 'delivered' AND recipient_dip_id = '{SUP}'")
            )
        }
    in_flight = seen_at_kill - done
    assert len(done) < len(accepted), "the kill must come mid-delivery"

    cast.sup_receiver.set_behaviour(accept_all)
    cast.hub.start()
    wait_for(lambda: set(accepted) <= set(counts(cast)), timeout=60, what="every message after the restart")
    pending = "SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered'"
    wait_for(lambda: scalar(cast, pending) == 0, timeout=60, what="every delivery recorded (leases of the dead expire)")
    received = counts(cast)
    repeated = {tx for tx, n in received.items() if n > 1}
    assert repeated <= in_flight, "a message the hub had recorded as delivered was sent again"
    assert max(received.values()) <= 2
    assert len(repeated) <= 2 * BATCH  # at most the batches in flight (two per recipient)
    assert scalar(cast, f"SELECT COUNT(*) FROM deliveries WHERE recipient_dip_id = '{SUP}'") == len(accepted)

    # Kill the hub while a requeue is enqueueing (one message per transaction here), restart, finish.
    with cast.client(cast.sup) as sup:
        started = post_json(sup, f"/dip-channel/IF-043/requeue/{SUP}", {})
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 30
        while scalar(cast, "SELECT COALESCE(MAX(enqueued), 0) FROM requeues") < 10:  # poll tightly: it runs fast
            assert time.monotonic() < deadline, "the requeue never got under way"
            time.sleep(0.002)
        cast.hub.kill()
    enqueued_at_kill = scalar(cast, "SELECT enqueued FROM requeues")
    assert 10 <= enqueued_at_kill < len(accepted), "the kill must come mid-requeue"
    assert scalar(cast, "SELECT COUNT(*) FROM deliveries WHERE replay = true") == enqueued_at_kill

    cast.hub.start()
    with cast.client(cast.sup) as sup:
        final = wait_for(
            lambda: (s := get(sup, f"/dip-channel/IF-043/requeueStatus/{SUP}").json())["status"] != "Processing" and s,
            timeout=60,
            what="the resumed requeue to finish",
        )
    assert final["status"] == "Completed" and final["totalTransactions"] == len(accepted)
    assert scalar(cast, "SELECT COUNT(*) FROM deliveries WHERE replay = true") == len(accepted)
    assert scalar(cast, "SELECT COUNT(DISTINCT transaction_id) FROM deliveries WHERE replay = true") == len(accepted)
    replays = Counter(
        m["payload"]["CommonBlock"]["D0"]["transactionID"]
        for r in cast.sup_receiver.received
        for m in r.messages
        if m["payload"]["CommonBlock"]["D0"]["replayIndicator"]
    )
    assert set(replays) == set(accepted)
    assert sum(replays.values()) - len(accepted) <= 2 * BATCH  # only batches in flight at the kill came twice
    originals_after = sum(counts(cast).values()) - sum(received.values()) - sum(replays.values())
    assert originals_after == 0, "an original delivery was repeated during the requeue"
