"""From verdicts to row states and journal rows, for every outbox kind: where the retry policy is applied.

Kept apart from the HTTP rules (outcome.py) and the SQL (outbox.py) so the
question "what does the tracker show after this attempt?" has one answer in
one place, for message deliveries and L4 status deliveries alike. Every
attempt journals its own row (with timing, HTTP status, attempt number and
reason); a failure that will be retried adds a Retrying row saying when, and a
failure with no attempts left adds RetriesExhausted. The rows are decided in
the Outbound stage's words and written in the kind's (journalling.py): where a
kind's stage has one word for two rows in a row (L4: DeliveryFailure, then
RetriesExhausted), the later row, which says more, stands alone. Every attempt
also gets its attempt row (attempts.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from opendip.core.journal import Outbound
from opendip.delivery.attempts import Attempt, attempt_row
from opendip.delivery.journalling import OUTBOUND, Wording
from opendip.delivery.outbox import DeliveryState, Settled
from opendip.delivery.outcome import TxOutcome, Verdict
from opendip.delivery.retry import RetryPolicy

_TERMINAL = {
    Verdict.DELIVERED: DeliveryState.DELIVERED,
    Verdict.REJECTED: DeliveryState.REJECTED,
    Verdict.UNKNOWN: DeliveryState.UNKNOWN,
    Verdict.FAILED: DeliveryState.EXHAUSTED,
}


class Settling(Protocol):
    """A claimed outbox row of any kind, as the settle step reads it."""

    @property
    def id(self) -> int: ...

    @property
    def transaction_id(self) -> str: ...

    @property
    def recipient_dip_id(self) -> str: ...

    @property
    def attempts(self) -> int: ...

    @property
    def next_attempt_at(self) -> float: ...

    @property
    def received_at(self) -> float:
        """When the hub took what the row carries: the journal's delay is counted from here."""
        ...


def settle(
    rows: Sequence[Settling],
    outcomes: Mapping[str, TxOutcome],
    attempt: Attempt,
    policy: RetryPolicy,
    wording: Wording = OUTBOUND,
) -> list[Settled]:
    """Each row's new state after one attempt, with its journal rows (in the kind's words) and attempt row."""
    return [settle_one(row, outcomes[row.transaction_id], attempt, policy, wording) for row in rows]


def settle_one(
    row: Settling, outcome: TxOutcome, attempt: Attempt, policy: RetryPolicy, wording: Wording = OUTBOUND
) -> Settled:
    number = row.attempts + 1
    reason = _with_note(outcome.reason, attempt.note)
    state = _TERMINAL.get(outcome.verdict)
    delivered_at: float | None = None
    next_attempt_at = row.next_attempt_at
    error = reason
    steps: list[tuple[Outbound, str | None]]
    if state is not None:
        steps = [(outcome.status, reason)]
        if state is DeliveryState.DELIVERED:
            delivered_at, error = attempt.finished_at, None
    else:
        delay = policy.delay(number)
        if delay is None:
            state = DeliveryState.EXHAUSTED
            steps = [] if outcome.status is Outbound.RETRYING else [(outcome.status, reason)]
            steps.append((Outbound.RETRIES_EXHAUSTED, _with_note(f"gave up after {number} attempts", reason)))
        else:
            state = DeliveryState.PENDING
            if outcome.min_delay is not None:
                delay = max(delay, outcome.min_delay)
            next_attempt_at = attempt.finished_at + delay
            when = f"attempt {number + 1} in {_duration(delay)}"
            if outcome.status is Outbound.RETRYING:
                steps = [(Outbound.RETRYING, _with_note(reason, when))]
            else:
                steps = [(outcome.status, reason), (Outbound.RETRYING, when)]
    journal = _journal(row, steps, attempt, number, wording)
    return Settled(
        id=row.id,
        state=state,
        attempts=number,
        next_attempt_at=next_attempt_at,
        delivered_at=delivered_at,
        http_status=attempt.http_status,
        error=error,
        journal=journal,
        attempt=attempt_row(
            wording.kind,
            row.id,
            row.transaction_id,
            row.recipient_dip_id,
            number,
            attempt,
            str(journal[0]["status"]),
            state.value,
            reason,
        ),
        transaction_id=row.transaction_id,
        received_at=row.received_at,
    )


def _journal(
    row: Settling, steps: Sequence[tuple[Outbound, str | None]], attempt: Attempt, number: int, wording: Wording
) -> tuple[dict[str, Any], ...]:
    """The steps as the kind's journal rows; of two rows in a row with one word, the later stands."""
    rows: list[dict[str, Any]] = []
    for status, text in steps:
        written = wording.attempted(
            row,
            status,
            text,
            at=attempt.finished_at,
            duration_ms=attempt.duration_ms,
            delay_ms=max(0.0, (attempt.started_at - row.received_at) * 1000.0),
            http_status=attempt.http_status,
            attempt=number,
        )
        if rows and rows[-1]["status"] == written["status"]:
            rows.pop()
        rows.append(written)
    return tuple(rows)


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
