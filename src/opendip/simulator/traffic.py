"""Business traffic shaped like a real market day, spread over many interfaces.

Each flow picks its sender and MPAN from the market state, the way the real
party would: a data service reports consumption for MPANs it reads, a
supplier updates registration for MPANs it supplies. A share of flows is
deliberately wrong (a supplier acting on an MPAN it lost, a mistyped MPAN, a
metering service not appointed) so the rejections a real market produces,
with their published codes, show up too. The driver sends flows at the base
rate times the hour's share of a day (DayClock), so the evening peak is busy.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from opendip.simulator import mpan as mpans
from opendip.simulator import roles
from opendip.simulator.engine import Simulation
from opendip.simulator.inbound import Outgoing
from opendip.simulator.roles import Market
from opendip.simulator.state import MeteringPoint

Flow = Callable[[Market, random.Random], list[Outgoing]]


@dataclass(frozen=True)
class Mistakes:
    """How often senders get it wrong (each produces a published rejection downstream)."""

    wrong_supplier: float = 0.08
    bad_mpan: float = 0.03
    unappointed_agent: float = 0.1


MISTAKES = Mistakes()


def _pick(market: Market, rng: random.Random) -> MeteringPoint:
    return rng.choice(list(market.state.points.values()))


def _mpan_as_sent(point: MeteringPoint, rng: random.Random) -> str:
    return mpans.corrupt(point.mpan) if rng.random() < MISTAKES.bad_mpan else point.mpan


def consumption(market: Market, rng: random.Random) -> list[Outgoing]:
    """IF-021: half-hourly consumption from the data service to the supplier (routing adds LDSO and ECS)."""
    point = _pick(market, rng)
    return [Outgoing("IF-021", "ActivePower", point.data_service, (point.supplier,), point.mpan)]


def reading(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    return [Outgoing("IF-041", "ReadingRemote", point.supplier, (point.data_service,), point.mpan)]


def advisory(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    return [Outgoing("IF-024", "SN-NoComms", point.supplier, (point.data_service,), point.mpan)]


def _supplier_for(market: Market, point: MeteringPoint, rng: random.Random) -> str:
    if rng.random() < MISTAKES.wrong_supplier:
        others = [s.dip_id for s in market.state.of_role("SUP") if s.dip_id != point.supplier]
        return rng.choice(others) if others else point.supplier
    return point.supplier


def supplier_update(market: Market, rng: random.Random) -> list[Outgoing]:
    """IF-025 to the registration service (REG1021 when the sender lost the MPAN, REG0000 when mistyped)."""
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    sender = _supplier_for(market, point, rng)
    return [Outgoing("IF-025", "ConsentGranularity", sender, (regs,), _mpan_as_sent(point, rng))]


def direct_contract(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    sender = _supplier_for(market, point, rng)
    overrides = {"customerDirectContractMeteringServiceDIPID": point.metering_service}
    return [Outgoing("IF-038", "DirectContractMSAdd", sender, (regs,), point.mpan, overrides)]


def relationship(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    sender = _supplier_for(market, point, rng)
    other = _pick(market, rng)
    overrides = {
        "M1": {"principalMPAN": point.mpan, "distributorDIPID": point.distributor, "GSPGroupID": point.gsp_group},
        "subsidiaryMPAN": other.mpan,
    }
    return [Outgoing("IF-019", "RelatedCreate", sender, (regs,), point.mpan, overrides)]


def appointment(market: Market, rng: random.Random) -> list[Outgoing]:
    """IF-031: the supplier proposes a new metering or data service (which answers, then registration)."""
    point = _pick(market, rng)
    metering = rng.random() < 0.5
    current = point.metering_service if metering else point.data_service
    pool = market.state.of_role(*(("MSS", "MSA") if metering else ("SDS", "ADS")))
    candidates = [p.dip_id for p in pool if p.dip_id != current]
    if not candidates:
        return []
    agent = rng.choice(candidates)
    event = "MSApp" if metering else "DSApp"
    return [Outgoing("IF-031", event, point.supplier, (agent,), point.mpan)]


def meter_work(market: Market, rng: random.Random) -> list[Outgoing]:
    """IF-005 from the metering service (REG1002 when it is not the one appointed)."""
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    sender = point.metering_service
    if rng.random() < MISTAKES.unappointed_agent:
        others = [p.dip_id for p in market.state.of_role("MSS", "MSA") if p.dip_id != sender]
        sender = rng.choice(others) if others else sender
    meter = f"SIM{rng.randrange(10**7):07d}"  # meter IDs are at most 10 characters
    return [Outgoing("IF-005", "MeterExchange", sender, (regs,), point.mpan, {"meterID": meter})]


def energisation(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    status = "E" if not point.energised or rng.random() < 0.3 else "D"
    overrides = {"energisationStatus": status}
    return [Outgoing("IF-007", "EnergisationStatusChange", point.metering_service, (regs,), point.mpan, overrides)]


def switch(market: Market, rng: random.Random) -> list[Outgoing]:
    """A change of supplier completes: IF-001 from the registration service; the state changes hands."""
    point = _pick(market, rng)
    others = [s.dip_id for s in market.state.of_role("SUP") if s.dip_id != point.supplier]
    if not others:
        return []
    return list(roles.change_of_supplier(market, market.state.first("REGS"), point.mpan, rng.choice(others)))


def connection_change(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    event, interface = rng.choice((("ConnectionTypeChange", "IF-043"), ("MarketSegmentChange", "IF-044")))
    return [Outgoing(interface, event, regs, (point.supplier, point.data_service), point.mpan)]


def amendment(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    return [Outgoing("IF-027", "ConsumptionAmendment", point.supplier, (point.data_service,), point.mpan)]


def replay_request(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    ecs = market.state.first("ECS").dip_id
    return [Outgoing("IF-015", "ConsumptionReplay", point.supplier, (ecs,), point.mpan)]


def enquiry_update(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    ees = market.state.first("EES").dip_id
    if rng.random() < 0.5:
        return [Outgoing("IF-050", "MPStatusChange", point.distributor, (ees,), point.mpan)]
    return [Outgoing("IF-051", "EESRefresh", market.state.first("REGS").dip_id, (ees,), point.mpan)]


def mdr_start(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    sds = market.state.of_role("SDS")
    if not sds:
        return []
    return [Outgoing("IF-061", "MDRStart", sds[0].dip_id, (market.state.first("DCC").dip_id,), point.mpan)]


def settlement_report(market: Market, rng: random.Random) -> list[Outgoing]:
    """Settlement publishes reports to suppliers (REP-007 also always to BSCCo) and distributors."""
    ecs = market.state.first("ECS").dip_id
    supplier = rng.choice(market.state.of_role("SUP")).dip_id
    distributor = rng.choice(market.state.of_role("LDSO")).dip_id
    interface, event, recipient = rng.choice(
        (
            ("REP-002", "DUOSSupplierAggData", supplier),
            ("REP-003", "BMUnitAllocatedDemandVolumesToMarketParticipants", supplier),
            ("REP-007", "BMUnitDefaultsToSuppliers", supplier),
            ("REP-008", "LDSOLLFDefaultData", distributor),
            ("REP-004", "SupplierDeemedTakeReport", supplier),
        )
    )
    return [Outgoing(interface, event, ecs, (recipient,))]


def settlement_notice(market: Market, rng: random.Random) -> list[Outgoing]:
    point = _pick(market, rng)
    ecs = market.state.first("ECS").dip_id
    interface, event = rng.choice((("IF-013", "ActivePowerDefaulted"), ("IF-040", "AnnualConsumption")))
    return [Outgoing(interface, event, ecs, (point.supplier, point.data_service), point.mpan)]


def distributor_invoice(market: Market, rng: random.Random) -> list[Outgoing]:
    ldso = rng.choice(market.state.of_role("LDSO")).dip_id
    supplier = rng.choice(market.state.of_role("SUP")).dip_id
    return [Outgoing("REP-900", "DUoSSupplierInvData", ldso, (supplier,))]


# Relative weights: consumption dominates, as IF-021 does on the real DIP.
FLOWS: tuple[tuple[Flow, float], ...] = (
    (consumption, 30.0),
    (reading, 6.0),
    (supplier_update, 6.0),
    (meter_work, 4.0),
    (appointment, 3.0),
    (switch, 3.0),
    (advisory, 2.0),
    (energisation, 2.0),
    (connection_change, 2.0),
    (amendment, 2.0),
    (direct_contract, 1.5),
    (enquiry_update, 1.5),
    (relationship, 1.0),
    (replay_request, 1.0),
    (mdr_start, 1.0),
    (settlement_report, 1.0),
    (settlement_notice, 1.0),
    (distributor_invoice, 0.5),
)


def opening(market: Market, rng: random.Random) -> list[Outgoing]:
    """The day opens with one of every flow and one of every classic mistake.

    However short or slow a run, every flow's interfaces and every rejection
    kind (REG1021, REG0000, REG1002, RCP1061) then appear at least once.
    """
    sent = [outgoing for flow, _ in FLOWS for outgoing in flow(market, rng)]
    point = _pick(market, rng)
    regs = market.state.first("REGS").dip_id
    lost = [s.dip_id for s in market.state.of_role("SUP") if s.dip_id != point.supplier]
    unappointed = [p.dip_id for p in market.state.of_role("MSS", "MSA") if p.dip_id != point.metering_service]
    if lost:
        sent.append(Outgoing("IF-025", "ConsentGranularity", lost[0], (regs,), point.mpan))
    sent.append(Outgoing("IF-025", "ConsentGranularity", point.supplier, (regs,), mpans.corrupt(point.mpan)))
    if unappointed:
        sent.append(Outgoing("IF-005", "MeterExchange", unappointed[0], (regs,), point.mpan, {"meterID": "SIM0000000"}))
    unknown = mpans.make(99, rng.randrange(10**9))
    sent.append(Outgoing("IF-021", "ActivePower", point.data_service, (point.supplier,), unknown))
    return sent


class TrafficDriver:
    """Originates flows at `rate` per second on average, shaped by the simulated hour."""

    def __init__(self, simulation: Simulation, rate: float, seed: int = 7, tick: float = 0.1) -> None:
        self.simulation = simulation
        self.rate = rate
        self.rng = random.Random(seed)
        self.tick = tick
        self.flows_started = 0
        self._flows = [f for f, _ in FLOWS]
        self._weights = [w for _, w in FLOWS]

    def step(self) -> int:
        """Start this tick's flows (a Poisson count at the hour's rate); returns how many."""
        expected = self.rate * self.simulation.clock.load() * self.tick
        count = _poisson(self.rng, expected)
        for flow in self.rng.choices(self._flows, self._weights, k=count):
            for outgoing in flow(self.simulation.market, self.rng):
                self.simulation.originate(outgoing)
        self.flows_started += count
        return count

    async def run(self, until: float, backlog: int = 200) -> None:
        """Drive traffic until `until` seconds of the clock have passed (holding back if sends pile up)."""
        clock = self.simulation.clock
        for outgoing in opening(self.simulation.market, self.rng):
            self.simulation.originate(outgoing)
        while clock.elapsed() < until:
            if self.simulation.busy < backlog:
                self.step()
            await asyncio.sleep(self.tick)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
