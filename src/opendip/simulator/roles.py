"""The business rules each market role applies to what it receives.

Two questions per message, as a real participant's system asks them:
`check` (synchronous, decides the webhook answer): is the content acceptable
at all? A failure is a published RCP code in a 400 or 207 body.
`react` (after the answer): what does the business make of it? The result is
the code of the L4 status (RCP0000, or a REG/RCP rejection) and the messages
the role sends in answer, following the catalogue's interface flows.
All rules read and change one MarketState, so every role's answer agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opendip.catalogue.catalogue import Catalogue
from opendip.simulator import codes
from opendip.simulator import mpan as mpans
from opendip.simulator.inbound import Inbound, Outgoing, Reaction, rejected
from opendip.simulator.state import MarketState, MeteringPoint, Participant

METERING_ROLES = ("MSS", "MSA", "UMSO")
DATA_ROLES = ("SDS", "ADS", "UMSDS")


@dataclass
class Market:
    """What every role consults: the shared state, the catalogue and the environment's tag."""

    state: MarketState
    catalogue: Catalogue
    environment: str = "DEV"


def check(market: Market, me: Participant, message: Inbound) -> str | None:
    """The RCP code a recipient in `me`'s role rejects this message with, or None to take it."""
    if message.transaction_id is None:
        return "RCP1043"
    if message.environment != market.environment:
        return "RCP1004"
    if me.dip_id not in message.addressed_to:
        return "RCP1041"
    interface = market.catalogue.interface(message.interface)
    if interface is None:
        return "RCP1002"
    if message.sender_role not in interface.sender_roles:
        return "RCP1010"
    mpan = message.mpan
    # The registration service answers an unknown MPAN with REG0000 instead, as a business rejection.
    if mpan is not None and me.role != "REGS" and (not mpans.is_valid(mpan) or market.state.point(mpan) is None):
        return "RCP1061"
    if me.role == "SUP" and mpan is not None and message.interface in SUPPLIER_OWNED:
        point = market.state.point(mpan)
        if point is not None and point.supplier != me.dip_id:
            return "RCP1062"  # about an MPAN it does not supply: unexpected given the MPAN's status
    return None


# Flows a supplier only expects about MPANs it supplies (IF-001 is how it learns of a gain).
SUPPLIER_OWNED = frozenset({"IF-032", "IF-039", "IF-026", "IF-028"})


def react(market: Market, me: Participant, message: Inbound) -> Reaction:
    """What `me` does with a message it accepted."""
    handler = _HANDLERS.get((me.role, message.interface)) or _HANDLERS.get(("*", message.interface))
    return handler(market, me, message) if handler else Reaction()


def _point(market: Market, message: Inbound) -> MeteringPoint | None:
    mpan = message.mpan
    if mpan is None or not mpans.is_valid(mpan):
        return None
    return market.state.point(mpan)


def _no_mpan(message: Inbound) -> str:
    return f"MPAN {message.mpan} is not a valid MPAN of this market"


# The registration service.


def regs_supplier_update(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-025: the current supplier updates registration data; everyone appointed hears of it (IF-026)."""
    point = _point(market, message)
    if point is None:
        return rejected("REG0000", _no_mpan(message), _r0(me, "IF-026", message, "REG0000"))
    if message.sender != point.supplier:
        note = f"{message.sender} does not supply {point.mpan} (its supplier is {point.supplier})"
        return rejected("REG1021", note, _r0(me, "IF-026", message, "REG1021"))
    told = (point.supplier, point.metering_service, point.data_service)
    return Reaction(
        outgoing=(
            Outgoing(
                "IF-026",
                message.event,
                me.dip_id,
                told,
                point.mpan,
                response=("A", []),
                correlation_id=message.correlation_id,
            ),
        )
    )


def regs_direct_contract(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-038: a customer direct contract; only the current supplier may ask (IF-039 answers)."""
    point = _point(market, message)
    if point is None:
        return rejected("REG0000", _no_mpan(message), _r0(me, "IF-039", message, "REG0000"))
    if message.sender != point.supplier:
        return rejected(
            "REG1021", f"{message.sender} does not supply {point.mpan}", _r0(me, "IF-039", message, "REG1021")
        )
    return Reaction(outgoing=(_r0(me, "IF-039", message, None),))


def regs_relationship(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-019: MPAN relationships; the supplier (or distributor) must own the principal MPAN (IF-020)."""
    point = _point(market, message)
    if point is None:
        return rejected("REG0000", _no_mpan(message), _r0(me, "IF-020", message, "REG0000", m1=True))
    if message.sender not in (point.supplier, point.distributor):
        note = f"{message.sender} owns neither side of {point.mpan}"
        return rejected("REG1050", note, _r0(me, "IF-020", message, "REG1050", m1=True))
    return Reaction(outgoing=(_r0(me, "IF-020", message, None, m1=True),))


def regs_meter_details(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-005: meter technical details from the metering service; published to the MPAN's parties (IF-006)."""
    point = _point(market, message)
    if point is None:
        return rejected("REG0000", _no_mpan(message))
    if message.sender != point.metering_service:
        return rejected("REG1002", f"{message.sender} is not the metering service appointed to {point.mpan}")
    meter = message.field("meterID")
    if message.event == "MeterInstall" and meter is not None and meter == point.meter_id:
        return rejected("REG1006", f"meter {meter} is already installed at {point.mpan}")
    if message.event in ("MeterInstall", "MeterExchange") and isinstance(meter, str):
        market.state.install_meter(point.mpan, meter)
    parties = (point.supplier, point.distributor, point.data_service, point.metering_service)
    return Reaction(
        outgoing=(
            Outgoing("IF-006", message.event, me.dip_id, parties, point.mpan, correlation_id=message.correlation_id),
        )
    )


def regs_energisation(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-007: an energisation change by the appointed metering service; notified to all (IF-008)."""
    point = _point(market, message)
    if point is None:
        return rejected("REG0000", _no_mpan(message))
    if message.sender != point.metering_service:
        return rejected("REG1002", f"{message.sender} is not the metering service appointed to {point.mpan}")
    if message.event == "EnergisationStatusFailure":
        return Reaction()
    market.state.set_energised(point.mpan, message.field("energisationStatus") != "D")
    parties = (point.supplier, point.distributor, point.data_service, point.metering_service)
    overrides = {"energisationStatus": "E" if point.energised else "D"}
    return Reaction(
        outgoing=(
            Outgoing(
                "IF-008",
                "EnergisationStatusChange",
                me.dip_id,
                parties,
                point.mpan,
                overrides,
                correlation_id=message.correlation_id,
            ),
        )
    )


def regs_appointment(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-034: the proposed agent accepts; registration appoints it (IF-035) and de-appoints the old one (IF-037)."""
    point = _point(market, message)
    if point is None:
        return rejected("REG0000", _no_mpan(message))
    metering = message.event.startswith("MS")
    current = point.metering_service if metering else point.data_service
    if message.sender == current:
        return rejected("REG1026", f"{message.sender} is already appointed to {point.mpan}")
    old = market.state.appoint(point.mpan, message.sender)
    kind = "MS" if metering else "DS"
    outgoing = [
        Outgoing(
            "IF-035",
            f"{kind}AppAccepted",
            me.dip_id,
            (point.supplier, message.sender),
            point.mpan,
            correlation_id=message.correlation_id,
        )
    ]
    outgoing.append(Outgoing("IF-037", f"{kind}DeApp", me.dip_id, (old,), point.mpan))
    return Reaction(outgoing=tuple(outgoing))


def change_of_supplier(market: Market, regs: Participant, mpan: str, new_supplier: str) -> tuple[Outgoing, ...]:
    """A switch completes (CSS tells the registration service): the new supplier is current from now.

    IF-001 goes to the gaining supplier, the distributor and the appointed agents.
    """
    point = market.state.point(mpan)
    if point is None:
        raise KeyError(f"MPAN {mpan} is not in the market")
    market.state.change_supplier(mpan, new_supplier)
    gaining = market.state.participants[new_supplier]
    parties = (new_supplier, point.distributor, point.metering_service, point.data_service)
    overrides = {"incomingSupplierDIPID": new_supplier, "incomingSupplierMPID": gaining.mpid}
    return (Outgoing("IF-001", "ChangeOfSupplier", regs.dip_id, parties, mpan, overrides),)


def _r0(me: Participant, interface: str, message: Inbound, reg: str | None, *, m1: bool = False) -> Outgoing:
    """The response flow to the requester: R0 accepted, or rejected with the REG code."""
    response = ("A", []) if reg is None else ("R", [codes.text(reg)])
    mpan = message.mpan if message.mpan and not m1 else None
    overrides: dict[str, Any] = {}
    if m1 and message.common.get("M1"):
        overrides["M1"] = message.common["M1"]
    return Outgoing(
        interface, message.event, me.dip_id, (message.sender,), mpan, overrides, response, message.correlation_id
    )


# Agents: metering and data services.


def agent_appointment_request(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-031: a supplier proposes an appointment; the agent answers (IF-032) and confirms to registration (IF-034)."""
    point = _point(market, message)
    if point is None:
        return rejected("RCP1061", _no_mpan(message))
    if message.sender != point.supplier:
        return rejected("RCP1062", f"{message.sender} does not supply {point.mpan}")
    kind = "MS" if message.event.startswith("MS") else "DS"
    regs = market.state.first("REGS")
    return Reaction(
        outgoing=(
            Outgoing(
                "IF-032",
                f"{kind}AppInitialResp",
                me.dip_id,
                (message.sender,),
                point.mpan,
                response=("A", []),
                correlation_id=message.correlation_id,
            ),
            Outgoing(
                "IF-034",
                f"{kind}AppSPResponse",
                me.dip_id,
                (regs.dip_id,),
                point.mpan,
                correlation_id=message.correlation_id,
            ),
        )
    )


def data_amendment(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-027: the supplier asks for a consumption amendment; the data service answers (IF-028)."""
    point = _point(market, message)
    if point is None or point.data_service != me.dip_id:
        return rejected("RCP1062", f"{me.dip_id} is not the data service of {message.mpan}")
    return Reaction(
        outgoing=(
            Outgoing(
                "IF-028",
                message.event,
                me.dip_id,
                (message.sender,),
                point.mpan,
                response=("A", []),
                correlation_id=message.correlation_id,
            ),
        )
    )


def dcc_mdr_start(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-061: an MDR start request; the DCC answers (IF-062)."""
    return Reaction(
        outgoing=(
            Outgoing(
                "IF-062",
                "MDRStartResponse",
                me.dip_id,
                (message.sender,),
                message.mpan,
                response=("A", []),
                correlation_id=message.correlation_id,
            ),
        )
    )


# Settlement (ECS).


def ecs_consumption(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-021: consumption for a de-energised MPAN is refused back to the data service (IF-014)."""
    point = _point(market, message)
    if point is not None and not point.energised:
        out = Outgoing(
            "IF-014",
            "ConsumptionOnDeEnergisedMPAN",
            me.dip_id,
            (message.sender,),
            point.mpan,
            correlation_id=message.correlation_id,
        )
        return Reaction(outgoing=(out,))
    return Reaction()


def ecs_replay(market: Market, me: Participant, message: Inbound) -> Reaction:
    """IF-015: a consumption replay request; settlement sends the history back (IF-016)."""
    return Reaction(
        outgoing=(
            Outgoing(
                "IF-016",
                "ActivePower",
                me.dip_id,
                (message.sender,),
                message.mpan,
                correlation_id=message.correlation_id,
            ),
        )
    )


_HANDLERS = {
    ("REGS", "IF-025"): regs_supplier_update,
    ("REGS", "IF-038"): regs_direct_contract,
    ("REGS", "IF-019"): regs_relationship,
    ("REGS", "IF-005"): regs_meter_details,
    ("REGS", "IF-007"): regs_energisation,
    ("REGS", "IF-034"): regs_appointment,
    **{(role, "IF-031"): agent_appointment_request for role in METERING_ROLES + DATA_ROLES},
    **{(role, "IF-027"): data_amendment for role in DATA_ROLES},
    ("DCC", "IF-061"): dcc_mdr_start,
    ("ECS", "IF-021"): ecs_consumption,
    ("ECS", "IF-015"): ecs_replay,
}
