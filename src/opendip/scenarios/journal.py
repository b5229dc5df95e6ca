"""What a scenario run saw on the wire: sends with their L3 answers, deliveries, L4 statuses.

The simulator host reports every delivery and every L4 status it receives;
steps wait on this journal (a condition, never a fixed sleep) and the evidence
pack is written from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from opendip.simulator.inbound import Inbound
from opendip.simulator.ledger import code_of


@dataclass
class Sent:
    step: str
    sender: str
    interface: str
    event: str
    recipients: list[str]
    http_status: int
    l3_code: str
    transaction_id: str | None
    at: float
    seconds: float


@dataclass
class Delivered:
    recipient: str
    interface: str
    event: str
    transaction_id: str | None
    mpan: str | None
    response_code: str | None
    at: float


@dataclass
class Status:
    received_by: str
    transaction_id: str | None
    code: str
    at: float


@dataclass
class Journal:
    sent: list[Sent] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_delivery(self, dip_id: str, messages: list[Any]) -> None:
        for raw in messages:
            message = Inbound(raw.get("payload") or {}) if isinstance(raw, dict) else Inbound({})
            r0 = message.common.get("R0") or {}
            self.delivered.append(
                Delivered(
                    dip_id,
                    message.interface,
                    message.event,
                    message.transaction_id,
                    message.mpan,
                    r0.get("responseCode"),
                    time.time(),
                )
            )
        self._poke()

    def on_status(self, dip_id: str, items: list[Any]) -> None:
        for item in items:
            if isinstance(item, dict):
                self.statuses.append(
                    Status(dip_id, item.get("transactionID"), code_of(item.get("message")), time.time())
                )
        self._poke()

    def _poke(self) -> None:
        self._changed.set()

    async def until(self, found: Any, timeout: float) -> Any:
        """The first truthy value of `found()` within `timeout` seconds, else None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = found()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
