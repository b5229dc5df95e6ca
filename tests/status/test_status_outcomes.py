"""What the sender's answer means for each L4 status, and how batches keep one status per transaction."""

from __future__ import annotations

import orjson

from opendip.delivery.client import HttpResult
from opendip.delivery.outcome import classify
from opendip.delivery.retry import RetryPolicy
from opendip.status.outbox import one_per_transaction, settle_status, status_body
from opendip.status.outbox_store import ClaimedStatus

POLICY = RetryPolicy((0.0, 0.5, 1.0))


def row(n: int, tx: str, attempts: int = 0) -> ClaimedStatus:
    return ClaimedStatus(
        n, tx, "2300000900", "1009012345", attempts, 100.0, 90.0, b'{"transactionID":"%s"}' % tx.encode()
    )


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
    last = settle_status(row(1, "T-1", attempts=2), down.outcomes["T-1"], 200.0, 200.1, None, POLICY)
    assert last.state == "exhausted" and "gave up after 3 attempts" in last.journal[0]["reason"]
    odd = settle_status(rows[0], classify(HttpResult(200, b"ok"), ["T-1"]).outcomes["T-1"], 200.0, 200.1, 200, POLICY)
    assert odd.state == "unknown" and odd.journal[0]["status"] == "UnknownDeliveryStatus"
