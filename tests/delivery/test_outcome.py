"""How HTTP answers map to per-transaction outcomes (the StandardResponse contract)."""

from __future__ import annotations

import pytest

from opendip.core.journal import Outbound
from opendip.delivery.client import HttpResult
from opendip.delivery.outcome import FINAL_STATUSES, RETRIED_STATUSES, Verdict, classify, is_retried
from tests.delivery.receivers import standard_response

TX = ["T-1", "T-2", "T-3", "T-4", "T-5"]


def test_201_delivers_all() -> None:
    result = classify(HttpResult(201, standard_response({"T-1": "MSG0000"})), TX[:2])
    assert {o.verdict for o in result.outcomes.values()} == {Verdict.DELIVERED}
    assert result.outcomes["T-1"].reason is not None and "MSG0000" in result.outcomes["T-1"].reason
    assert result.recipient_alive and not result.recipient_failed


def test_207_judges_each_transaction() -> None:
    body = standard_response({"T-1": "MSG0000", "T-2": "MSG1001", "T-3": "MSG5000", "T-4": "MSG4029"})
    result = classify(HttpResult(207, body), TX)
    verdicts = {tx: o.verdict for tx, o in result.outcomes.items()}
    assert verdicts == {
        "T-1": Verdict.DELIVERED,
        "T-2": Verdict.REJECTED,
        "T-3": Verdict.RETRY,
        "T-4": Verdict.RETRY,
        "T-5": Verdict.RETRY,  # not named: we cannot assume it was taken
    }
    assert result.outcomes["T-2"].status is Outbound.REJECTED_BY_RECIPIENT
    assert "MSG1001 - Schema Failure" in (result.outcomes["T-2"].reason or "")
    assert result.outcomes["T-3"].status is Outbound.RETRYING
    assert not result.recipient_failed


def test_207_unknown_5xxx_code_is_retried() -> None:
    result = classify(HttpResult(207, standard_response({"T-1": "MSG5999"})), ["T-1"])
    assert result.outcomes["T-1"].verdict is Verdict.RETRY


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"messageArray": 3}', b'{"messageArray": [1]}', b""])
def test_unreadable_207_is_unknown_never_sent(body: bytes) -> None:
    result = classify(HttpResult(207, body), TX[:2])
    assert {o.verdict for o in result.outcomes.values()} == {Verdict.UNKNOWN}
    assert {o.status for o in result.outcomes.values()} == {Outbound.UNKNOWN_DELIVERY_STATUS}


def test_400_rejects_all_with_per_message_reason_when_readable() -> None:
    result = classify(HttpResult(400, standard_response({"T-1": "MSG1001"})), TX[:2])
    assert {o.verdict for o in result.outcomes.values()} == {Verdict.REJECTED}
    assert "MSG1001" in (result.outcomes["T-1"].reason or "")
    garbage = classify(HttpResult(400, b"bad request " * 100), ["T-1"])
    reason = garbage.outcomes["T-1"].reason or ""
    assert reason.startswith("HTTP 400 naming no such transaction: bad request") and len(reason) <= 500


def test_429_retries_after_retry_after_and_does_not_trip_the_breaker() -> None:
    result = classify(HttpResult(429, b"slow down", retry_after_seconds=7.0), ["T-1"])
    outcome = result.outcomes["T-1"]
    assert (outcome.verdict, outcome.status, outcome.min_delay) == (Verdict.RETRY, Outbound.RETRYING, 7.0)
    assert not result.recipient_failed and not result.recipient_alive


@pytest.mark.parametrize("status", [200, 202, 204])
def test_other_2xx_is_unknown(status: int) -> None:
    result = classify(HttpResult(status, b""), ["T-1"])
    assert result.outcomes["T-1"].verdict is Verdict.UNKNOWN


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 501, 599])
def test_errors_the_published_contract_retries_are_retried(status: int) -> None:
    result = classify(HttpResult(status, b"x" * 2000), ["T-1"])
    outcome = result.outcomes["T-1"]
    assert (outcome.verdict, outcome.status) == (Verdict.RETRY, Outbound.DELIVERY_FAILURE)
    assert outcome.reason is not None and len(outcome.reason) <= 500
    assert result.recipient_failed


@pytest.mark.parametrize("status", [401, 403, 404, 405, 406, 413, 505, 410, 422, 302])
def test_errors_the_published_contract_does_not_retry_end_the_delivery(status: int) -> None:
    result = classify(HttpResult(status, b"x" * 2000), ["T-1"])
    outcome = result.outcomes["T-1"]
    assert (outcome.verdict, outcome.status) == (Verdict.FAILED, Outbound.DELIVERY_FAILURE)
    assert outcome.reason is not None and f"HTTP {status}: not retried" in outcome.reason
    assert not result.recipient_failed, "a final answer is not an outage: the breaker stays shut"


def test_the_published_lists_are_classified_as_published() -> None:
    for status in RETRIED_STATUSES:
        assert is_retried(status)
    for status in FINAL_STATUSES:
        assert not is_retried(status)
    assert {408, 429, 500, 502, 503, 504} == RETRIED_STATUSES
    assert {401, 403, 404, 405, 406, 413, 505} == FINAL_STATUSES


def test_network_error_is_a_failure_with_its_text() -> None:
    result = classify(HttpResult(None, error="timeout: no complete answer within 1 s"), ["T-1"])
    assert result.outcomes["T-1"].reason == "timeout: no complete answer within 1 s"
    assert result.recipient_failed


def test_503_with_retry_after_waits_at_least_that_long_and_counts_as_a_failure() -> None:
    result = classify(HttpResult(503, b"maintenance", retry_after_seconds=30.0), ["T-1"])
    outcome = result.outcomes["T-1"]
    assert outcome.verdict is Verdict.RETRY and outcome.min_delay == 30.0
    assert result.recipient_failed
    assert classify(HttpResult(503, b"down"), ["T-1"]).outcomes["T-1"].min_delay is None
