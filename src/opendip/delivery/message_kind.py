"""Message deliveries as a kind of outbox row: the dispatcher's strategy for accepted messages.

Rows are claimed per (recipient, channel) with their stored payloads, sent to
the channel's webhook (pubconfig: the channel's, the wildcard, or the
participant's default), rendered with the D0 block in batches within the
webhook's maxMessageCount and maxPayloadSize (egress.py), journalled under the
Outbound stage in its own words (journalling.OUTBOUND: the settle step is the
dispatcher's, settle.py) and counted in the delivery metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery import metrics
from opendip.delivery.attempts import MESSAGE
from opendip.delivery.backlog import backlogs
from opendip.delivery.egress import plan_batches
from opendip.delivery.journalling import OUTBOUND
from opendip.delivery.kind import BatchPlan
from opendip.delivery.outbox import Settled
from opendip.delivery.outbox_repository import GroupKey
from opendip.delivery.repository import ClaimedDelivery, DeliveryRepository
from opendip.delivery.webhooks import Webhook, WebhookResolver

NO_WEBHOOK = "no webhook configured"


class MessageKind:
    name = MESSAGE
    no_webhook = NO_WEBHOOK
    wording = OUTBOUND

    def __init__(self, db: Database, settings: Settings) -> None:
        self.repository = DeliveryRepository(db)
        self.resolver = WebhookResolver(db, settings)

    def concurrency(self, configured: int) -> int:
        return configured

    def webhook(self, group: GroupKey) -> Webhook | None:
        recipient, interface = group
        return self.resolver.resolve(recipient, interface)

    def plan(self, rows: Sequence[ClaimedDelivery], hook: Webhook) -> BatchPlan:
        return plan_batches(rows, hook.max_message_count, hook.max_payload_size)

    def observe(self, rows: Sequence[ClaimedDelivery], settled: Sequence[Settled]) -> None:
        metrics.observe(rows, settled)

    def gauges(self) -> None:
        metrics.outbox_depth(self.repository.pending_count())
        metrics.recipient_backlogs(backlogs(self.repository.db))
