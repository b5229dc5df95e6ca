"""The simulated participants at work: answering deliveries, sending L4s and answer flows.

One Simulation holds the market (state and rules), the behaviours and the hub
client; the webhook host hands it each delivery and the traffic driver hands it
each message to originate. It keeps every background step (late statuses,
answer flows) as a task so a run can drain them before it stops.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from opendip.simulator import codes, roles
from opendip.simulator.behaviour import BehaviourBook
from opendip.simulator.clock import DayClock
from opendip.simulator.hubclient import HubClient
from opendip.simulator.inbound import Inbound, Outgoing, Reaction
from opendip.simulator.ledger import Ledger, code_of
from opendip.simulator.payloads import PayloadFactory
from opendip.simulator.roles import Market
from opendip.simulator.state import Participant

Answer = tuple[int, bytes]
log = logging.getLogger(__name__)


class Simulation:
    def __init__(
        self,
        market: Market,
        book: BehaviourBook,
        client: HubClient,
        *,
        clock: DayClock | None = None,
        seed: int = 1,
    ) -> None:
        self.market = market
        self.book = book
        self.client = client
        self.clock = clock or DayClock(86400.0)
        self.factory = PayloadFactory(market.catalogue, market.environment)
        self.ledger = Ledger()
        self.rng = random.Random(seed)
        self.simulated: set[str] = set(market.state.participants)
        self._tasks: set[asyncio.Task[Any]] = set()

    # Receiving.

    async def deliver(self, dip_id: str, messages: list[dict[str, Any]]) -> Answer:
        """The webhook answer of simulated participant `dip_id` to one delivery from the hub."""
        me = self.market.state.participants[dip_id]
        behaviour = self.book.of(dip_id)
        outage = behaviour.down(self.clock.elapsed(), datetime.now(UTC))
        if outage is not None:
            self.ledger.outage_answers += 1
            self.ledger.record_answer(me.role, outage.status, [])
            return outage.status, b'{"error": "service unavailable (simulated outage)"}'
        await asyncio.sleep(behaviour.answer_delay(self.rng, self.clock.at_peak()))
        inbound = [Inbound(m.get("payload") or {}) if isinstance(m, dict) else Inbound({}) for m in messages]
        verdicts = [roles.check(self.market, me, m) for m in inbound]
        for index, verdict in enumerate(verdicts):
            if verdict is None and self.rng.random() < behaviour.reject_rate:
                verdicts[index] = self.rng.choice(behaviour.reject_codes)
        partial = len(inbound) > 1 and self.rng.random() < behaviour.partial_rate
        if partial and all(v is None for v in verdicts):
            verdicts[self.rng.randrange(len(verdicts))] = self.rng.choice(behaviour.reject_codes)
        items = []
        for message, verdict in zip(inbound, verdicts, strict=True):
            code = verdict or codes.SUCCESS
            items.append({"transactionID": message.transaction_id, "message": codes.text(code), "help": None})
            if verdict is None:
                self._spawn(self._after(me, message))
        rejected = sum(v is not None for v in verdicts)
        status = 201 if rejected == 0 else 400 if rejected == len(verdicts) else 207
        self.ledger.record_answer(me.role, status, [v or codes.SUCCESS for v in verdicts])
        body = orjson.dumps({"messageArray": items, "timestamp": _now()})
        return status, body

    async def _after(self, me: Participant, message: Inbound) -> None:
        """The business answer: the L4 status (as the behaviour says) and the role's answer flows."""
        reaction = roles.react(self.market, me, message)
        behaviour = self.book.of(me.dip_id)
        mode = behaviour.l4.draw(self.rng)
        if mode == "late":
            self._spawn(self._late_status(me, message, reaction, behaviour.l4.late_seconds))
        elif mode != "missing":
            await self._status(me, message, reaction, mode)
        else:
            self.ledger.record_l4("missing", reaction.code, "not sent")
        for outgoing in reaction.outgoing:
            await self.send(outgoing)

    async def _late_status(self, me: Participant, message: Inbound, reaction: Reaction, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._status(me, message, reaction, "late")

    async def _status(self, me: Participant, message: Inbound, reaction: Reaction, mode: str) -> None:
        code = reaction.code
        if mode == "wrong":  # the status contradicts what the participant actually did
            code = "RCP1000" if reaction.accepted else codes.SUCCESS
        item = {"transactionID": message.transaction_id, "message": codes.text(code), "help": reaction.note}
        try:
            answer = await self.client.statuses(me.dip_id, [item])
            hub_code = code_of(answer.items[0].get("message")) if answer.items else f"HTTP {answer.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            hub_code = type(exc).__name__
        self.ledger.record_l4(mode, code, hub_code)

    # Sending.

    async def send(self, outgoing: Outgoing) -> str | None:
        """Send one message through the hub as its sender; returns its transactionID when accepted."""
        sender = self.market.state.participants[outgoing.sender]
        if sender.dip_id not in self.simulated:  # a real participant in the market sends for itself
            self.ledger.left_to_real_participants += 1
            return None
        point = self.market.state.point(outgoing.mpan) if outgoing.mpan else None
        m0 = point.m0() if point else _m0_for_unknown(self.market, outgoing.mpan)
        payload = self.factory.build(
            outgoing.interface,
            outgoing.event,
            sender=sender.dip_id,
            role=sender.role,
            recipients=list(outgoing.recipients),
            mpan=m0,
            overrides=outgoing.overrides,
            correlation_id=outgoing.correlation_id,
            response=outgoing.response,
        )
        tx = await self._post(sender, outgoing.interface, outgoing.event, payload)
        if self.rng.random() < self.book.of(sender.dip_id).duplicate_rate:
            twin = orjson.loads(orjson.dumps(payload))
            twin["CommonBlock"]["S1"]["senderUniqueReference"] += "d"
            self.ledger.duplicates_sent += 1
            await self._post(sender, outgoing.interface, outgoing.event, twin)
        return tx

    async def _post(self, sender: Participant, interface: str, event: str, payload: dict[str, Any]) -> str | None:
        try:
            answer = await self.client.send(sender.dip_id, interface, [payload])
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.ledger.send_errors[type(exc).__name__] += 1
            return None
        self.ledger.record_send(interface, event, sender.role, answer.status, answer.items)
        first = answer.items[0] if answer.items else {}
        return first.get("transactionID") if answer.status == 201 else None

    def originate(self, outgoing: Outgoing) -> None:
        """Send in the background (the driver does not wait for the hub's answer)."""
        self._spawn(self.send(outgoing))

    # Draining.

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Any) -> None:
        """A failing background step is counted in the summary (and logged), never lost silently."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.ledger.step_errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
            log.exception("simulated participant step failed")

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> bool:
        """Wait until no status or answer flow is left to send; False if `timeout` passed first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True


def _m0_for_unknown(market: Market, mpan: str | None) -> dict[str, str] | None:
    """An M0 for an MPAN the market does not hold (a mistyped one): the sender's best guess."""
    if mpan is None:
        return None
    ldso = market.state.first("LDSO")
    return {"MPANCore": mpan, "distributorDIPID": ldso.dip_id, "GSPGroupID": ldso.gsp_group or "_A"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
