"""Where a recipient wants a channel delivered, with a short cache.

Resolution order follows pubconfig: a webhook for exactly this channel, then
the recipient's wildcard (`*`) webhook, then the participant's default URL
with the hub's default limits. Participants change pubconfig at runtime, so
answers are cached for at most a second: long enough to spare the database on
every claim round, short enough that a change takes effect at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from opendip.config import Settings
from opendip.core.bounded import BoundedCache
from opendip.db.engine import Database
from opendip.db.models import participants, webhooks

WILDCARD = "*"


@dataclass(frozen=True)
class Webhook:
    callback_url: str
    max_message_count: int
    max_payload_size: int
    """maxPayloadSize in KB (1024 bytes), as published."""
    source: str
    """'channel', 'wildcard' or 'default': shown in journal reasons and the portal."""


class WebhookResolver:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        ttl_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.default_max_message_count = settings.default_max_message_count
        self.default_max_payload_size = settings.default_max_payload_size
        self.ttl_seconds = min(ttl_seconds, 1.0)
        self._clock = clock
        # keyed by recipient and channel: bounded, since channels come from what senders send
        self._cache: BoundedCache[tuple[str, str], tuple[float, Webhook | None]] = BoundedCache(50_000)

    def resolve(self, recipient: str, interface: str) -> Webhook | None:
        """The webhook for one recipient and channel, or None when none is configured."""
        key = (recipient, interface)
        now = self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        webhook = self._load(recipient, interface)
        self._cache.put(key, (now + self.ttl_seconds, webhook))
        return webhook

    def invalidate(self) -> None:
        """Forget cached answers, e.g. right after this process changed pubconfig."""
        self._cache.clear()

    def _load(self, recipient: str, interface: str) -> Webhook | None:
        w = webhooks.c
        with self.db.begin() as conn:
            rows = conn.execute(
                select(w.interface_id, w.callback_url, w.max_message_count, w.max_payload_size).where(
                    w.recipient_dip_id == recipient, w.interface_id.in_((interface, WILDCARD))
                )
            ).all()
            by_interface = {row.interface_id: row for row in rows}
            for name, source in ((interface, "channel"), (WILDCARD, "wildcard")):
                row = by_interface.get(name)
                if row is not None:
                    return Webhook(row.callback_url, row.max_message_count, row.max_payload_size, source)
            default_url = conn.execute(
                select(participants.c.default_webhook_url).where(participants.c.dip_id == recipient)
            ).scalar_one_or_none()
        if not default_url:
            return None
        return Webhook(default_url, self.default_max_message_count, self.default_max_payload_size, "default")
