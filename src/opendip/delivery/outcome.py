"""What an HTTP answer means for each transaction in the batch.

The rules follow the DIP's own StandardResponse contract: 201 means every
message was taken; 207 names each message's fate; 400 means none were. What
matters most is never to mark a message delivered on an ambiguous answer: a
recipient that said "200" or sent an unreadable 207 may have processed some
messages, so those become UnknownDeliveryStatus for a human to resolve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from opendip.core.journal import Outbound
from opendip.delivery.client import EXCERPT_CHARS, HttpResult
from opendip.errors import Msg

SUCCESS_CODE = Msg.SUCCESS.spec.code
# Recipients answer with their published RCP codes (RCP0000 success); MSG codes are read too.
_CODE = re.compile(r"\s*((?:MSG|RCP)\d{4})\b")
RECIPIENT_SUCCESS = "RCP0000"


# The published webhook contract: these answers are retried, these end the delivery at once.
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
FINAL_STATUSES = frozenset({401, 403, 404, 405, 406, 413, 505})


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    FAILED = "failed"  # a final HTTP failure: not retried, requeueable once the recipient is fixed


def is_retried(status: int) -> bool:
    """Whether an HTTP error answer is retried: the published lists, and the nearest rule for the rest.

    Unlisted 5xx are retried like 500/502/503/504 (505 aside, which is listed final);
    unlisted 4xx and 3xx (redirects are not followed) end the delivery like 404.
    """
    if status in RETRIED_STATUSES:
        return True
    if status in FINAL_STATUSES:
        return False
    return status >= 500


@dataclass(frozen=True)
class TxOutcome:
    """One transaction's fate: the verdict, the journal status for this attempt, and why."""

    verdict: Verdict
    status: Outbound
    reason: str | None
    min_delay: float | None = None


@dataclass(frozen=True)
class BatchOutcome:
    """Per-transaction outcomes plus what the batch says about the recipient's health.

    `recipient_failed` feeds the circuit breaker; `recipient_alive` closes it.
    A 429 is neither: the recipient is up, just asking us to slow down.
    """

    outcomes: Mapping[str, TxOutcome]
    recipient_failed: bool
    recipient_alive: bool


def classify(result: HttpResult, transaction_ids: Sequence[str]) -> BatchOutcome:
    if result.status is None:
        reason = result.error or "no answer"
        return _all(transaction_ids, Verdict.RETRY, Outbound.DELIVERY_FAILURE, reason, failed=True)
    status = result.status
    if status == 201:  # all taken, whatever the body says; its text is only the reason
        answers = _parse_answers(result.body) or {}
        outcomes = {
            tx: TxOutcome(Verdict.DELIVERED, Outbound.DELIVERED, _answer_text(answers.get(tx)))
            for tx in transaction_ids
        }
        return BatchOutcome(outcomes, recipient_failed=False, recipient_alive=True)
    if status == 207:
        return _per_message(result, transaction_ids)
    if status == 400:
        answers = _parse_answers(result.body) or {}
        outcomes = {
            tx: TxOutcome(
                Verdict.REJECTED,
                Outbound.REJECTED_BY_RECIPIENT,
                _answer_text(answers.get(tx)) or _join("HTTP 400 naming no such transaction", _excerpt(result)),
            )
            for tx in transaction_ids
        }
        return BatchOutcome(outcomes, recipient_failed=False, recipient_alive=True)
    if status == 429:
        delay = result.retry_after_seconds
        note = f"rate limited (Retry-After {delay:g} s)" if delay is not None else "rate limited"
        outcomes = {
            tx: TxOutcome(Verdict.RETRY, Outbound.RETRYING, _join(note, _excerpt(result)), delay)
            for tx in transaction_ids
        }
        return BatchOutcome(outcomes, recipient_failed=False, recipient_alive=False)
    if 200 <= status < 300:
        reason = _join(f"HTTP {status} is not a DIP answer (201/207/400)", _excerpt(result))
        return _all(transaction_ids, Verdict.UNKNOWN, Outbound.UNKNOWN_DELIVERY_STATUS, reason, alive=True)
    if not is_retried(status):
        reason = _join(f"HTTP {status}: not retried, the delivery failed (requeue it once fixed)", _excerpt(result))
        return _all(transaction_ids, Verdict.FAILED, Outbound.DELIVERY_FAILURE, reason, alive=True)
    reason = _join(f"HTTP {status}", _excerpt(result))
    outcome = _all(transaction_ids, Verdict.RETRY, Outbound.DELIVERY_FAILURE, reason, failed=True)
    if status == 503 and result.retry_after_seconds is not None:  # unavailable, and says for how long
        delay = result.retry_after_seconds
        outcomes = {tx: TxOutcome(o.verdict, o.status, o.reason, delay) for tx, o in outcome.outcomes.items()}
        return BatchOutcome(outcomes, outcome.recipient_failed, outcome.recipient_alive)
    return outcome


def _per_message(result: HttpResult, transaction_ids: Sequence[str]) -> BatchOutcome:
    answers = _parse_answers(result.body)
    if answers is None:
        reason = _join("unreadable 207 StandardResponse", _excerpt(result))
        return _all(transaction_ids, Verdict.UNKNOWN, Outbound.UNKNOWN_DELIVERY_STATUS, reason, alive=True)
    outcomes: dict[str, TxOutcome] = {}
    for tx in transaction_ids:
        answer = answers.get(tx)
        if answer is None:
            reason = "not named in the recipient's 207 answer"
            outcomes[tx] = TxOutcome(Verdict.RETRY, Outbound.RETRYING, reason)
        else:
            outcomes[tx] = _judge_answer(answer)
    return BatchOutcome(outcomes, recipient_failed=False, recipient_alive=True)


def _judge_answer(answer: Mapping[str, Any]) -> TxOutcome:
    text = _answer_text(answer)
    match = _CODE.match(str(answer.get("message") or ""))
    if match is None:
        return TxOutcome(Verdict.UNKNOWN, Outbound.UNKNOWN_DELIVERY_STATUS, _join("no MSG or RCP code", text))
    code = match.group(1)
    if code in (SUCCESS_CODE, RECIPIENT_SUCCESS):
        return TxOutcome(Verdict.DELIVERED, Outbound.DELIVERED, text)
    known = Msg.by_code(code)
    if (known is not None and known.spec.retryable) or code.startswith("MSG5"):
        return TxOutcome(Verdict.RETRY, Outbound.RETRYING, text)
    return TxOutcome(Verdict.REJECTED, Outbound.REJECTED_BY_RECIPIENT, text)


def _parse_answers(body: bytes) -> dict[str, Mapping[str, Any]] | None:
    """transactionID -> its messageArray entry; None when the body is not a StandardResponse.

    When a transaction is named twice, a failure wins over a success: we would
    rather re-send or flag than assume.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    items = document.get("messageArray") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return None
    answers: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("transactionID"), str):
            return None
        tx = item["transactionID"]
        previous = answers.get(tx)
        if previous is None or str(previous.get("message", "")).lstrip().startswith((SUCCESS_CODE, RECIPIENT_SUCCESS)):
            answers[tx] = item
    return answers


def _answer_text(answer: Mapping[str, Any] | None) -> str | None:
    if answer is None:
        return None
    parts = [str(answer[key]) for key in ("message", "help") if answer.get(key)]
    return " | ".join(parts)[:EXCERPT_CHARS] if parts else None


def _excerpt(result: HttpResult) -> str | None:
    return result.body_excerpt or None


def _join(first: str, second: str | None) -> str:
    return f"{first}: {second}"[:EXCERPT_CHARS] if second else first


def _all(
    transaction_ids: Sequence[str],
    verdict: Verdict,
    status: Outbound,
    reason: str | None,
    *,
    failed: bool = False,
    alive: bool = False,
) -> BatchOutcome:
    outcome = TxOutcome(verdict, status, reason)
    return BatchOutcome(dict.fromkeys(transaction_ids, outcome), recipient_failed=failed, recipient_alive=alive)


def exception_outcome(transaction_ids: Sequence[str], reason: str) -> BatchOutcome:
    """A fault on our side (signing, a stored payload we cannot render): journal it, retry later.

    It says nothing about the recipient's health, so the breaker ignores it.
    """
    return _all(transaction_ids, Verdict.RETRY, Outbound.EXCEPTION, reason)
