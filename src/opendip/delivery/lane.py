"""One outbox kind's lane in the dispatcher: its slots, circuits, pace and due groups, kept apart from other kinds'.

Fairness inside a kind: a recipient's free batch slots are shared round-robin
among its groups, least recently served first. Between kinds: each lane has
its own slots per recipient, its own circuits (another kind's webhook is
another URL) and its own pace, so a backlog of messages never holds back L4
statuses, nor the other way round.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery.kind import OutboxKind
from opendip.delivery.outbox_repository import GroupKey
from opendip.delivery.outcome_queue import OutcomeQueue
from opendip.delivery.pacing import Pacer
from opendip.delivery.shared_breaker import SharedBreaker
from opendip.delivery.webhooks import Webhook

GROUPS_EVERY_SECONDS = 1.0
"""While rounds keep claiming, a group with new work waits at most this long to be seen."""


class Lane:
    def __init__(self, kind: OutboxKind, db: Database, settings: Settings, owner: str) -> None:
        self.kind = kind
        self.breaker = SharedBreaker(db, settings, owner, table=kind.repository.source.breakers)
        self.pacer = Pacer(settings.delivery_rate_per_recipient)
        self.outcomes = OutcomeQueue(kind.repository.record, owner)
        self.inflight: Counter[str] = Counter()
        self.groups: list[GroupKey] = []
        self.groups_at = 0.0
        self.productive = False  # the last round claimed something: its groups are worth asking again
        self.woken = True  # asked to look for new work (new rows stored, a batch settled)
        self._last_served: dict[GroupKey, float] = {}

    def stale(self, now: float, poll_seconds: float, woken: bool) -> bool:
        """Whether to read the due groups again this round.

        Finding the groups reads every due row: under a backlog that is the costliest query of a
        round, so busy rounds reuse the last answer for up to a second and claim from those groups'
        own index range. An idle lane looks again when woken, or once a poll interval has passed
        (rows whose retry came due), not on every round another kind's work starts.
        """
        age = now - self.groups_at
        if age >= GROUPS_EVERY_SECONDS:
            return True
        return not self.productive and (woken or age >= poll_seconds)

    def found(self, groups: list[GroupKey], now: float) -> None:
        self.groups, self.groups_at = groups, now

    def served(self, group: GroupKey) -> None:
        self._last_served[group] = time.monotonic()

    def allocate(self, concurrency: int) -> dict[GroupKey, int]:
        """Free batch slots per group: shared round-robin among one recipient's groups."""
        by_recipient: dict[str, list[GroupKey]] = {}
        for group in self.groups:
            by_recipient.setdefault(group[0], []).append(group)
        slots: dict[GroupKey, int] = {}
        now = time.time()
        for recipient, keys in by_recipient.items():
            cap = self.breaker.allowance(recipient, concurrency)
            if cap == 0 or self.pacer.paused(recipient, now):
                continue  # open, or half-open while another worker sends the one probe, or asked to wait
            free = cap - self.inflight[recipient]
            keys.sort(key=lambda key: self._last_served.get(key, 0.0))
            for index in range(max(0, free)):
                key = keys[index % len(keys)]
                slots[key] = slots.get(key, 0) + 1
        return slots

    def allowances(self, groups: Iterable[GroupKey]) -> dict[str, int | None]:
        """What each recipient's pace lets be claimed now (None: no cap); read on the event loop."""
        return {group[0]: self.pacer.allowance(group[0]) for group in groups}


def limits(
    slots: Mapping[GroupKey, tuple[int, Webhook]], claim_batch: int, allowances: Mapping[str, int | None]
) -> Sequence[tuple[GroupKey, int]]:
    """Rows to claim per group: its slots' worth of batches, within the claim batch and the recipient's pace."""
    left = dict(allowances)
    found = []
    for group, (n, hook) in slots.items():
        limit = min(claim_batch, n * hook.max_message_count)
        allowance = left.get(group[0])
        if allowance is not None:  # the recipient's drain rate: what is left of its allowance
            limit = min(limit, allowance)
            left[group[0]] = allowance - limit
        found.append((group, limit))
    return found
