"""Requeue end to end: 10,000 messages re-delivered (replayIndicator true) to a recipient that
fails the first 20 % and then recovers; one requeue at a time; the extra filters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from opendip.core.responses import dip_timestamp
from opendip.simulator.examples import connection_type_change, mpan_core
from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import Cast
from tests.helpers.hub import HubProcess
from tests.status.support import REGS, SUP, get, post_json, start_cast, wait_for

TOTAL, FAIL_FIRST = 10_000, 2_000
SELF_DISTRIBUTOR = REGS  # the sender as the MPAN's distributor: no secondary copy (never to oneself), only SUP receives


@pytest.fixture
def big_cast(hub: HubProcess, receiver_factory) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    # batches of 1,000: the test counts every POST, so none may time out (and be sent again) on a busy machine
    yield start_cast(
        hub,
        receiver_factory,
        delivery_claim_batch="1000",
        requeue_chunk="2500",
        delivery_timeout_seconds="120",
        delivery_lease_seconds="150",
    )


def answer(messages: list[dict[str, Any]], refuse: set[str]) -> tuple[int, bytes]:
    """207: MSG1001 for messages whose MPAN is in `refuse`, MSG0000 for the rest."""
    items = [
        {
            "transactionID": m["payload"]["CommonBlock"]["D0"]["transactionID"],
            "message": "MSG1001 - Schema Failure"
            if m["payload"]["CommonBlock"]["M0"]["MPANCore"] in refuse
            else "MSG0000",
        }
        for m in messages
    ]
    return 207, orjson.dumps({"messageArray": items, "timestamp": dip_timestamp()})


def test_requeue_of_ten_thousand_survives_a_failing_start_and_runs_one_at_a_time(big_cast: Cast) -> None:
    cast = big_cast
    refused_mpans = {mpan_core(n) for n in (7, 77, 777, 7777)}
    cast.sup_receiver.set_behaviour(lambda messages: answer(messages, refused_mpans))
    with cast.client(cast.sup) as sup:
        assert sup.set_webhook("IF-043", SUP, cast.sup_receiver.url("/big"), maxMessageCount=1000).status_code == 201
    with cast.client(cast.regs) as regs:
        for start in range(0, TOTAL, 500):
            payloads = [
                connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=SELF_DISTRIBUTOR)
                for n in range(start, start + 500)
            ]
            assert regs.send("IF-043", payloads).status_code == 201
    originals = set(cast.sup_receiver.wait_for(TOTAL, timeout=120))
    assert len(originals) == TOTAL

    # The recipient is down for the first 20 % of the requeue, then recovers.
    failed = {"messages": 0}

    def failing_start(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        if failed["messages"] < FAIL_FIRST:
            failed["messages"] += len(messages)
            return 500, b"maintenance"
        return accept_all(messages)

    received_before = len(cast.sup_receiver.received)
    cast.sup_receiver.set_behaviour(failing_start)
    with cast.client(cast.sup) as sup:
        started = post_json(sup, f"/dip-channel/IF-043/requeue/{SUP}", {})
        assert started.status_code == 202, started.text
        requeue_id = started.json()
        assert isinstance(requeue_id, str) and requeue_id.startswith("RQ-")

        second = post_json(sup, f"/dip-channel/IF-043/requeue/{SUP}", {"MPAN": mpan_core(1)})
        assert second.status_code == 429, second.text
        assert second.headers["X-Requeue-ID"] == requeue_id
        assert requeue_id in second.json()["messageArray"][0]["help"]

        def finished() -> dict[str, Any] | None:
            status = get(sup, f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id={requeue_id}").json()
            assert status["totalTransactions"] == TOTAL
            return status if status["status"] != "Processing" else None

        final = wait_for(finished, timeout=180, what="the requeue to finish")
        assert final == final | {
            "requeueId": requeue_id,
            "status": "Completed",
            "percentComplete": 100.0,
            "totalTransactions": TOTAL,
            "processedTransactions": TOTAL,
            "deliveredTransactions": TOTAL,
            "failedTransactions": 0,
        }

        replayed = [
            m["payload"]["CommonBlock"]["D0"] for r in cast.sup_receiver.received[received_before:] for m in r.messages
        ]
        assert all(d0["replayIndicator"] is True for d0 in replayed)
        attempts = Counter(d0["transactionID"] for d0 in replayed)
        assert set(attempts) == originals
        assert failed["messages"] >= FAIL_FIRST
        assert sum(attempts.values()) == TOTAL + failed["messages"]  # one more try per failure, no other repeat
        with cast.hub.db.engine.connect() as conn:
            copies = conn.execute(
                text("SELECT COUNT(*), COUNT(DISTINCT transaction_id) FROM deliveries WHERE replay = true")
            ).one()
        assert tuple(copies) == (TOTAL, TOTAL), "the hub made an extra copy of some message"

        retried, tries = next((tx, n) for tx, n in attempts.items() if n >= 2)
        journal = get(sup, f"/journal?transactionID={retried}").json()["transactions"][0]["journal"]
        trail = [(e["stage"], e["status"], e["httpStatus"]) for e in journal if e["stage"] in ("Replay", "Outbound")]
        requeued = trail.index(("Replay", "Requeued", None))
        assert trail[requeued + 1 :] == [
            *[("Outbound", "DeliveryFailure", 500), ("Outbound", "Retrying", 500)] * (tries - 1),
            ("Outbound", "Delivered", 201),
        ]

        # Extra filters: only what the recipient refused the first time, by HTTP status received.
        refused = post_json(
            sup, f"/dip-channel/IF-043/requeue/{SUP}", {"deliveryStatus": "failed", "httpStatus": [207]}
        )
        assert refused.status_code == 202, refused.text
        again = wait_for(
            lambda: (s := get(sup, f"/dip-channel/IF-043/requeueStatus/{SUP}").json())["status"] != "Processing" and s,
            what="the refused-only requeue",
        )
        assert again["requeueId"] == refused.json() and again["totalTransactions"] == len(refused_mpans)
        assert again["status"] == "Completed"
        missing = get(sup, f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id=RQ-20260101-NOSUCH")
        assert missing.status_code == 404
