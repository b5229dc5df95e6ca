"""`${...}` placeholders in scenario values: participants, MPANs, dates, references, correlation IDs.

Every run draws fresh values, so scenarios can run again and again against
the same hub without colliding: a new reference each time, a registered MPAN
nobody else in the run has used, MPANs with a valid (or a deliberately wrong)
check digit.

    ${ROLE} / ${ROLE2}          first / second participant of a market role (SUP, REGS, LDSO...)
    ${mpan}                     a registered MPAN for this scenario (its parties below)
    ${supplier} ${other_supplier} ${distributor} ${metering_service} ${data_service}
    ${other_metering_service} ${other_data_service}   a service of that kind not appointed to it
    ${unknown_mpan}             a valid MPAN no one holds
    ${bad_mpan}                 the scenario's MPAN with a wrong check digit
    ${today} ${date:+N}         ISO dates
    ${ref}  ${correlation}      a fresh reference / correlation ID (UUID)
    ${real_ROLE}                the participant of that role a real system plays (`--real`)
    ${NAME}                     any variable from the scenario's `vars`
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from opendip.simulator import mpan as mpans
from opendip.simulator.state import MarketState, MeteringPoint, Participant

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_:+\-]+)\}")


class TemplateError(ValueError):
    """A placeholder no rule knows."""


class Bindings:
    def __init__(
        self,
        state: MarketState,
        point: MeteringPoint,
        serial: int,
        variables: dict[str, str],
        real: Sequence[Participant] = (),
    ) -> None:
        self.state = state
        self.values: dict[str, str] = {}
        others = [p.dip_id for p in state.of_role("SUP") if p.dip_id != point.supplier]
        meterers = [p.dip_id for p in state.of_role("MSS", "MSA") if p.dip_id != point.metering_service]
        readers = [p.dip_id for p in state.of_role("SDS", "ADS") if p.dip_id != point.data_service]
        self.values.update(
            mpan=point.mpan,
            supplier=point.supplier,
            other_supplier=others[0],
            distributor=point.distributor,
            metering_service=point.metering_service,
            data_service=point.data_service,
            other_metering_service=meterers[0],
            other_data_service=readers[0],
            unknown_mpan=mpans.make(98, 9_000_000 + serial),
            bad_mpan=mpans.corrupt(point.mpan),
            today=datetime.now(UTC).date().isoformat(),
            correlation=str(uuid.uuid4()),
        )
        for role in sorted({p.role for p in state.participants.values()}):
            for index, member in enumerate(state.of_role(role), start=1):
                self.values[role if index == 1 else f"{role}{index}"] = member.dip_id
        for participant in reversed(real):  # the first of each role wins
            self.values[f"real_{participant.role}"] = participant.dip_id
        for name, value in variables.items():
            self.values[name] = self.render(value)

    def _one(self, name: str) -> str:
        if name == "ref":
            return uuid.uuid4().hex[:20]
        if name.startswith("date:"):
            return (datetime.now(UTC).date() + timedelta(days=int(name[5:]))).isoformat()
        if name in self.values:
            return self.values[name]
        raise TemplateError(f"${{{name}}} is not a known placeholder or variable")

    def render(self, value: Any) -> Any:
        """`value` with every placeholder replaced (recursing into lists and objects)."""
        if isinstance(value, str):
            return _PLACEHOLDER.sub(lambda m: self._one(m.group(1)), value)
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        return value
