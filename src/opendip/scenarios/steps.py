"""Step executors: each plays or checks one step and returns pass/fail with a reason a tester can act on."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from opendip.scenarios.journal import Journal, Sent
from opendip.scenarios.model import Step
from opendip.scenarios.templates import Bindings
from opendip.simulator import roles
from opendip.simulator.behaviour import BehaviourError
from opendip.simulator.engine import Simulation
from opendip.simulator.ledger import code_of

DEFAULT_WITHIN = 30.0


@dataclass
class Outcome:
    step: str
    kind: str
    passed: bool
    reason: str
    seconds: float = 0.0


class Context:
    """One scenario's run: the simulation that sends, the journal that sees, the bindings that name."""

    def __init__(self, simulation: Simulation, journal: Journal, bindings: Bindings) -> None:
        self.simulation = simulation
        self.journal = journal
        self.bindings = bindings
        self.sends: dict[str, Sent] = {}


async def run_step(ctx: Context, step: Step) -> Outcome:
    started = time.perf_counter()
    args = ctx.bindings.render(step.args)
    passed, reason = await _EXECUTORS[step.kind](ctx, step.id, args)
    return Outcome(step.id, step.kind, passed, reason, round(time.perf_counter() - started, 3))


async def _send(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    sim = ctx.simulation
    sender = sim.market.state.participants.get(args["as"])
    if sender is None:
        return False, f"{args['as']} is not a participant of the market"
    mpan = args.get("mpan")
    point = sim.market.state.point(mpan) if mpan else None
    m0 = (
        point.m0()
        if point
        else (
            {"MPANCore": mpan, "distributorDIPID": sim.market.state.first("LDSO").dip_id, "GSPGroupID": "_A"}
            if mpan
            else None
        )
    )
    payload = sim.factory.build(
        args["interface"],
        args["event"],
        sender=sender.dip_id,
        role=sender.role,
        recipients=list(args["to"]),
        mpan=m0,
        overrides=args.get("fields") or {},
    )
    began = time.perf_counter()
    try:
        answer = await sim.client.send(sender.dip_id, args["interface"], [payload])
    except (aiohttp.ClientError, TimeoutError) as exc:
        return False, f"the hub did not answer: {type(exc).__name__}: {exc}"
    first = answer.items[0] if answer.items else {}
    sent = Sent(
        step_id,
        sender.dip_id,
        args["interface"],
        args["event"],
        list(args["to"]),
        answer.status,
        code_of(first.get("message")),
        first.get("transactionID"),
        time.time(),
        round(time.perf_counter() - began, 3),
    )
    ctx.sends[step_id] = sent
    ctx.journal.sent.append(sent)
    return True, f"HTTP {answer.status} {sent.l3_code}, transactionID {sent.transaction_id}"


async def _switch_supplier(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    """Switch completion as CSS reports it: the registration service records the new supplier and sends IF-001."""
    market = ctx.simulation.market
    try:
        (outgoing,) = roles.change_of_supplier(market, market.state.first("REGS"), args["mpan"], args["to"])
    except KeyError as exc:
        return False, str(exc)
    fields = dict(outgoing.overrides)
    return await _send(
        ctx,
        step_id,
        {
            "as": outgoing.sender,
            "interface": outgoing.interface,
            "event": outgoing.event,
            "to": list(outgoing.recipients),
            "mpan": outgoing.mpan,
            "fields": fields,
        },
    )


async def _expect_received(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    within = float(args.get("within", DEFAULT_WITHIN))

    def found() -> Any:
        for d in ctx.journal.delivered:
            if (
                d.recipient == args["by"]
                and d.interface == args["interface"]
                and ("mpan" not in args or d.mpan == args["mpan"])
                and ("event" not in args or d.event == args["event"])
            ):
                return d
        return None

    got = await ctx.journal.until(found, within)
    if got is None:
        what = f"{args['interface']} [{args['event']}]" if "event" in args else args["interface"]
        return False, f"{args['by']} received no {what} within {within:g} s"
    if "response_code" in args and got.response_code != args["response_code"]:
        return (
            False,
            f"{args['interface']} arrived with R0 responseCode {got.response_code}, expected {args['response_code']}",
        )
    return True, f"{args['by']} received {args['interface']} (transactionID {got.transaction_id})"


async def _expect_l3(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    sent = ctx.sends.get(args["of"])
    if sent is None:
        return False, f"no send step {args['of']} ran before"
    if sent.l3_code != args["code"]:
        return False, f"L3 answer was HTTP {sent.http_status} {sent.l3_code}, expected {args['code']}"
    return True, f"L3 answer {sent.l3_code}"


async def _expect_l4(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    sent = ctx.sends.get(args["of"])
    if sent is None or sent.transaction_id is None:
        return False, f"step {args['of']} has no accepted message to expect an L4 status about"
    within = float(args.get("within", DEFAULT_WITHIN))
    tx = sent.transaction_id
    got = await ctx.journal.until(lambda: [s for s in ctx.journal.statuses if s.transaction_id == tx], within)
    if not got:
        return False, f"no L4 status about {tx} reached {sent.sender} within {within:g} s"
    codes = [s.code for s in got]
    if args["code"] not in codes:
        return False, f"L4 status about {tx} was {', '.join(codes)}, expected {args['code']}"
    return True, f"L4 status {args['code']}"


async def _behaviour(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    if args["of"] not in ctx.simulation.simulated:
        return False, f"{args['of']} is not a simulated participant"
    try:
        ctx.simulation.book.set(args["of"], args["set"])
    except BehaviourError as exc:
        return False, str(exc)
    return True, f"behaviour of {args['of']} now {args['set']}"


async def _wait(ctx: Context, step_id: str, args: dict[str, Any]) -> tuple[bool, str]:
    if "supplier_of" not in args:
        await asyncio.sleep(float(args.get("seconds", 0)))
        return True, f"waited {args.get('seconds', 0)} s"
    state = ctx.simulation.market.state
    within = float(args.get("within", DEFAULT_WITHIN))

    def holds() -> bool:
        point = state.point(args["supplier_of"])
        return point is not None and point.supplier == args["is"]

    if await ctx.journal.until(holds, within):
        return True, f"{args['is']} supplies {args['supplier_of']}"
    return False, f"{args['is']} did not become the supplier of {args['supplier_of']} within {within:g} s"


_EXECUTORS = {
    "send": _send,
    "switch_supplier": _switch_supplier,
    "expect_received": _expect_received,
    "expect_l3": _expect_l3,
    "expect_l4": _expect_l4,
    "behaviour": _behaviour,
    "wait": _wait,
}
