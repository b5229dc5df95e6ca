"""The simulated market's memory: who supplies, distributes, meters and reads each MPAN.

Every simulated role answers from this one state, so answers agree with each
other: after a change of supplier the registration service, the new supplier
and the old one all see the new supplier, and the old one is refused from then
on. It is plain data in one process, changed only from the simulator's event
loop, so it needs no locks.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from opendip.simulator import mpan as mpans

GSP_GROUPS = ("_A", "_B", "_C", "_D", "_E", "_F", "_G", "_H", "_J", "_K", "_L", "_M", "_N", "_P")


@dataclass(frozen=True)
class Participant:
    """A market participant in one role: what the hub knows it by, and its market ID."""

    dip_id: str
    role: str
    name: str
    mpid: str
    gsp_group: str | None = None  # set for a distributor: the area it serves


@dataclass
class MeteringPoint:
    """One MPAN and the parties appointed to it."""

    mpan: str
    gsp_group: str
    distributor: str
    supplier: str
    metering_service: str
    data_service: str
    energised: bool = True
    meter_id: str | None = None
    connection_type: str = "W"
    history: list[str] = field(default_factory=list)

    def m0(self) -> dict[str, str]:
        """The M0 block a message about this MPAN carries."""
        return {"MPANCore": self.mpan, "distributorDIPID": self.distributor, "GSPGroupID": self.gsp_group}


class MarketState:
    """Participants and metering points, with the changes market flows make to them."""

    def __init__(self, participants: Iterable[Participant] = ()) -> None:
        self.participants: dict[str, Participant] = {p.dip_id: p for p in participants}
        self.points: dict[str, MeteringPoint] = {}

    def add(self, participant: Participant) -> None:
        self.participants[participant.dip_id] = participant

    def of_role(self, *roles: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.role in roles]

    def first(self, role: str) -> Participant:
        found = self.of_role(role)
        if not found:
            raise LookupError(f"the market has no {role}")
        return found[0]

    def distributor_for(self, gsp_group: str) -> Participant:
        for p in self.of_role("LDSO"):
            if p.gsp_group == gsp_group:
                return p
        return self.first("LDSO")

    def point(self, mpan: str) -> MeteringPoint | None:
        return self.points.get(mpan)

    def supplied_by(self, supplier: str) -> list[MeteringPoint]:
        return [p for p in self.points.values() if p.supplier == supplier]

    def populate(self, per_group: int, seed: int = 1) -> None:
        """`per_group` MPANs in each distributor's area, spread over suppliers and agents (deterministic)."""
        rng = random.Random(seed)
        suppliers = self.of_role("SUP")
        meterers = self.of_role("MSS", "MSA")
        readers = self.of_role("SDS", "ADS")
        if not (suppliers and meterers and readers):
            raise LookupError("a market needs suppliers, metering services and data services before MPANs")
        for number, distributor in enumerate(self.of_role("LDSO"), start=10):
            group = distributor.gsp_group or GSP_GROUPS[number % len(GSP_GROUPS)]
            for serial in range(per_group):
                core = mpans.make(number, rng.randrange(10**9, 10**10) + serial)
                self.points[core] = MeteringPoint(
                    mpan=core,
                    gsp_group=group,
                    distributor=distributor.dip_id,
                    supplier=rng.choice(suppliers).dip_id,
                    metering_service=rng.choice(meterers).dip_id,
                    data_service=rng.choice(readers).dip_id,
                    meter_id=f"SIM{core[-7:]}",
                )

    # The changes market flows make. Each records a line of history, so a test
    # (or a scenario) can read what happened to an MPAN and in which order.

    def change_supplier(self, mpan: str, new_supplier: str) -> str:
        point = self._must(mpan)
        old, point.supplier = point.supplier, new_supplier
        point.history.append(f"supplier {old} -> {new_supplier}")
        return old

    def appoint(self, mpan: str, service: str) -> str:
        """Appoint a metering or data service (by its role); returns the one it replaces."""
        point = self._must(mpan)
        role = self.participants[service].role
        if role in ("MSS", "MSA", "UMSO"):
            old, point.metering_service = point.metering_service, service
        else:
            old, point.data_service = point.data_service, service
        point.history.append(f"appointed {service} replacing {old}")
        return old

    def set_energised(self, mpan: str, energised: bool) -> None:
        point = self._must(mpan)
        point.energised = energised
        point.history.append("energised" if energised else "de-energised")

    def install_meter(self, mpan: str, meter_id: str) -> None:
        point = self._must(mpan)
        point.meter_id = meter_id
        point.history.append(f"meter {meter_id} installed")

    def _must(self, mpan: str) -> MeteringPoint:
        point = self.points.get(mpan)
        if point is None:
            raise KeyError(f"MPAN {mpan} is not in the market")
        return point
