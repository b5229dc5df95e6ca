"""From verdicts to row states and journal rows: where the retry policy is applied.

Kept apart from the HTTP rules (outcome.py) and the SQL (repository.py) so the
question "what does the tracker show after this attempt?" has one answer in
one place. Every attempt journals its own row (with timing, HTTP status,
attempt number and reason); a failure that will be retried adds a Retrying
row saying when, and a failure with no attempts left adds RetriesExhausted.
Every attempt also gets its attempt row (attempts.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opendip.core.journal import Outbound, Stage, entry
from opendip.delivery.attempts import MESSAGE, Attempt, attempt_row
from opendip.delivery.outcome import TxOutcome, Verdict
from opendip.delivery.repository import ClaimedDelivery, DeliveryState, Resolution
from opendip.delivery.retry import RetryPolicy

_TERMINAL = {
    Verdict.DELIVERED: DeliveryState.DELIVERED,
    Verdict.REJECTED: DeliveryState.REJECTED,
    Verdict.UNKNOWN: DeliveryState.UNKNOWN,
    Verdict.FAILED: DeliveryState.EXHAUSTED,
}


def settle(
    rows: Sequence[ClaimedDelivery],
    outcomes: Mapping[str, TxOutcome],
    attempt: Attempt,
    policy: RetryPolicy,
) -> list[Resolution]:
    return [settle_one(row, outcomes[row.transaction_id], attempt, policy) for row in rows]


def settle_one(row: ClaimedDelivery, outcome: TxOutcome, attempt: Attempt, policy: RetryPolicy) -> Resolution:
    number = row.attempts + 1
    reason = _with_note(outcome.reason, attempt.note)

    def journal(status: Outbound, text: str | None) -> dict[str, Any]:
        return entry(
            row.transaction_id,
            Stage.OUTBOUND,
            status,
            at=attempt.finished_at,
            recipient=row.recipient_dip_id,
            duration_ms=attempt.duration_ms,
            delay_ms=max(0.0, (attempt.started_at - row.received_at) * 1000.0),
            http_status=attempt.http_status,
            attempt=number,
            reason=text,
        )

    state = _TERMINAL.get(outcome.verdict)
    delivered_at: float | None = None
    next_attempt_at = row.next_attempt_at
    error = reason
    if state is not None:
        rows = [journal(outcome.status, reason)]
        if state is DeliveryState.DELIVERED:
            delivered_at, error = attempt.finished_at, None
    else:
        delay = policy.delay(number)
        if delay is None:
            state = DeliveryState.EXHAUSTED
            rows = [] if outcome.status is Outbound.RETRYING else [journal(outcome.status, reason)]
            rows.append(journal(Outbound.RETRIES_EXHAUSTED, _with_note(f"gave up after {number} attempts", reason)))
        else:
            state = DeliveryState.PENDING
            if outcome.min_delay is not None:
                delay = max(delay, outcome.min_delay)
            next_attempt_at = attempt.finished_at + delay
            when = f"attempt {number + 1} in {_duration(delay)}"
            if outcome.status is Outbound.RETRYING:
                rows = [journal(Outbound.RETRYING, _with_note(reason, when))]
            else:
                rows = [journal(outcome.status, reason), journal(Outbound.RETRYING, when)]
    return Resolution(
        id=row.id,
        state=state,
        attempts=number,
        next_attempt_at=next_attempt_at,
        delivered_at=delivered_at,
        http_status=attempt.http_status,
        error=error,
        journal=tuple(rows),
        attempt=attempt_row(
            MESSAGE,
            row.id,
            row.transaction_id,
            row.recipient_dip_id,
            number,
            attempt,
            outcome.status.value,
            state.value,
            reason,
        ),
    )


def _with_note(reason: str | None, note: str | None) -> str | None:
    if reason and note:
        return f"{reason}; {note}"
    return reason or note


def _duration(seconds: float) -> str:
    """Human units for the tracker: 0.05 s, 5 s, 5 min, 2 h."""
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
