"""What the sender's answer means for each L4 status, and how batches keep one status per transaction.

The settle step is the one message deliveries use (delivery/settle.py); the L4 kind's wording puts its
rows under the StatusMessage stage, in that stage's words, each reason naming the reporter.
"""

from __future__ import annotations

import orjson

from opendip.delivery.attempts import Attempt
from opendip.delivery.client import HttpResult
from opendip.delivery.outbox import Settled
from opendip.delivery.outcome import TxOutcome, classify
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.settle import settle_one
from opendip.status.outbox import one_per_transaction, status_body
from opendip.status.outbox_store import L4, ClaimedStatus

POLICY = RetryPolicy((0.0, 0.5, 1.0))


def row(n: int, tx: str, attempts: int = 0) -> ClaimedStatus:
    return ClaimedStatus(
        n, tx, "2300000900", "1009012345", attempts, 100.0, 90.0, b'{"transactionID":"%s"}' % tx.encode()
    )


def settle_status(
    row: ClaimedStatus, outcome: TxOutcome, started: float, finished: float, http: int | None, policy: RetryPolicy
) -> Settled:
    return settle_one(row, outcome, Attempt(started, finished, http), policy, L4)


def test_a_batch_never_carries_two_statuses_about_one_transaction() -> None:
    rows = [row(1, "T-1"), row(2, "T-2"), row(3, "T-1"), row(4, "T-3")]
    batch, later = one_per_transaction(rows, limit=2)
    assert [r.id for r in batch] == [1, 2] and later == [3, 4]
    assert status_body(batch).startswith(b'{"messageArray":[{"transactionID":"T-1"},{"transactionID":"T-2"}]')


def test_answers_become_statusmessage_stage_entries() -> None:
    rows = [row(1, "T-1"), row(2, "T-2", attempts=1), row(3, "T-3")]
    answers = [("T-1", "MSG0000"), ("T-2", "MSG5000"), ("T-3", "MSG1001")]
    body = orjson.dumps({"messageArray": [{"transactionID": t, "message": m} for t, m in answers]})
    verdict = classify(HttpResult(207, body), ["T-1", "T-2", "T-3"])
    done, gave_up, refused = (
        settle_status(r, verdict.outcomes[r.transaction_id], 200.0, 200.5, 207, POLICY) for r in rows
    )
    assert (done.state, [j["status"] for j in done.journal]) == ("delivered", ["Delivered"])
    assert done.journal[0]["stage"] == "StatusMessage" and done.journal[0]["delay_ms"] == 110_000.0
    assert (gave_up.state, [j["status"] for j in gave_up.journal]) == ("pending", ["Retrying"])
    assert gave_up.next_attempt_at == 201.5
    assert (refused.state, [j["status"] for j in refused.journal]) == ("rejected", ["DeliveryFailure"])

    down = classify(HttpResult(None, error="connection refused"), ["T-1"])
    retry = settle_status(rows[0], down.outcomes["T-1"], 200.0, 200.1, None, POLICY)
    assert [j["status"] for j in retry.journal] == ["DeliveryFailure", "Retrying"]
    assert [j["reason"] for j in retry.journal] == [
        "L4 from 2300000900: connection refused",
        "L4 from 2300000900: attempt 2 in 0.5 s",
    ]
    last = settle_status(row(1, "T-1", attempts=2), down.outcomes["T-1"], 200.0, 200.1, None, POLICY)
    # the stage has no RetriesExhausted: the give-up is the one DeliveryFailure row, not a second one
    assert last.state == "exhausted" and [j["status"] for j in last.journal] == ["DeliveryFailure"]
    assert last.journal[0]["reason"] == "L4 from 2300000900: gave up after 3 attempts; connection refused"
    assert last.attempt is not None and (last.attempt["kind"], last.attempt["status"]) == ("status", "DeliveryFailure")
    odd = settle_status(rows[0], classify(HttpResult(200, b"ok"), ["T-1"]).outcomes["T-1"], 200.0, 200.1, 200, POLICY)
    assert odd.state == "unknown" and odd.journal[0]["status"] == "UnknownDeliveryStatus"
