"""What the one dispatcher (worker.py) asks of each outbox kind: message deliveries and L4 status deliveries.

The dispatcher owns everything the kinds share: the loop, claim rounds,
per-recipient slots and fairness, leases, the circuit breakers, pacing, the
POST itself, the reading of the answer and the shutdown. A kind says only what
is its own: which rows (its repository), where a recipient wants them (its
webhook), how claimed rows become request bodies (`plan`), how an attempt's
journal rows read (`wording`: its stage and words; what an answer means for a
row is decided once, in settle.py, for every kind), and what it counts
(`observe`). A kind of a higher domain (L4 statuses) is
handed to the dispatcher where the hub is wired, so delivery imports none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from opendip.delivery.journalling import Wording
from opendip.delivery.outbox import Settled
from opendip.delivery.outbox_repository import GroupKey, OutboxRepository
from opendip.delivery.webhooks import Webhook


class Claimed(Protocol):
    """A claimed outbox row of any kind, as the dispatcher reads it."""

    @property
    def id(self) -> int: ...

    @property
    def transaction_id(self) -> str: ...


@dataclass(frozen=True)
class Batch:
    """One POST: the claimed rows it carries and the exact body bytes that are signed and sent."""

    deliveries: Sequence[Any]
    body: bytes
    note: str | None = None
    mpo: str | None = None  # X-DIP-MPO: the connection provider every message of the POST came through

    @property
    def transaction_ids(self) -> list[str]:
        return [delivery.transaction_id for delivery in self.deliveries]


@dataclass
class BatchPlan:
    """Claimed rows as POSTs: the batches in order, rows that cannot be sent, rows to give back for later."""

    batches: list[Batch] = field(default_factory=list)
    broken: list[tuple[Any, str]] = field(default_factory=list)
    later: list[int] = field(default_factory=list)


class OutboxKind(Protocol):
    """One kind of outbox row and how it is sent."""

    name: str
    """The attempts' kind and the log's: 'message' or 'status'."""
    no_webhook: str
    """The reason journalled (Paused) when a recipient has no webhook for this kind."""
    wording: Wording
    """How its attempts read in the journal (its stage and words): the settle step itself is shared (settle.py)."""

    @property
    def repository(self) -> OutboxRepository:
        """The kind's outbox queries."""
        ...

    def concurrency(self, configured: int) -> int:
        """Batches in flight per recipient, given the configured per-recipient concurrency."""
        ...

    def webhook(self, group: GroupKey) -> Webhook | None:
        """Where the group's rows go, or None when the recipient has configured nowhere."""
        ...

    def plan(self, rows: Sequence[Any], hook: Webhook) -> BatchPlan:
        """Claimed rows (oldest first) as request bodies within the webhook's limits."""
        ...

    def observe(self, rows: Sequence[Any], settled: Sequence[Settled]) -> None:
        """Count one batch's recorded outcomes in the kind's metrics."""
        ...

    def gauges(self) -> None:
        """Refresh the kind's gauges (run in a thread every few seconds)."""
        ...
