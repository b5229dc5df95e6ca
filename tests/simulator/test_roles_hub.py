"""Each role's business rules through a real hub: consistent answers, REG/RCP rejections, L4 statuses."""

from __future__ import annotations

import orjson

from opendip.simulator import mpan as mpans
from opendip.simulator import roles
from opendip.simulator.inbound import Outgoing
from tests.simulator.world import World, wait_for


def _r0_of(world: World, sender: str, interface: str, tx: str) -> list[dict]:  # type: ignore[type-arg]
    """The R0 blocks of the answer flows `sender` sent on `interface` in the conversation of transaction `tx`."""
    rows = world.rows("SELECT correlation_id FROM messages WHERE transaction_id = :tx", tx=tx)
    correlation = rows[0].correlation_id

    def found() -> list[dict]:  # type: ignore[type-arg]
        blocks = []
        for row in world.messages_from(sender, interface):
            common = orjson.loads(row.payload)["CommonBlock"]
            if common["S1"]["senderCorrelationID"] == correlation:
                blocks.append(common["R0"])
        return blocks

    return wait_for(found, f"{interface} answering {tx}")


def test_change_of_supplier_moves_the_supplier_and_refuses_the_old_one(world: World) -> None:
    regs = world.role("REGS")
    point = next(iter(world.state.points.values()))
    old = point.supplier
    new = next(p.dip_id for p in world.state.of_role("SUP") if p.dip_id != old)

    for outgoing in roles.change_of_supplier(world.market, world.state.first("REGS"), point.mpan, new):
        switch = world.send(outgoing)
    assert world.delivery(switch, new).state == "delivered"
    assert world.state.point(point.mpan).supplier == new  # type: ignore[union-attr]

    # The old supplier's update is refused with REG1021, in its L4 and in the IF-026 answer.
    late = world.send(Outgoing("IF-025", "ConsentGranularity", old, (regs,), point.mpan))
    assert world.delivery(late, regs).state == "delivered"  # taken at the door: a business rejection
    assert world.l4(late) == ["REG1021"]
    assert _r0_of(world, regs, "IF-026", late) == [
        {"responseCode": "R", "responseMessages": ["REG1021 - Requesting Supplier is not the Current Supplier"]}
    ]

    # The new supplier's is applied: RCP0000, and IF-026 accepted to supplier and agents.
    fine = world.send(Outgoing("IF-025", "ConsentGranularity", new, (regs,), point.mpan))
    assert world.l4(fine) == ["RCP0000"]
    assert _r0_of(world, regs, "IF-026", fine) == [{"responseCode": "A", "responseMessages": []}]


def test_registration_refuses_an_mpan_with_a_wrong_check_digit(world: World) -> None:
    regs = world.role("REGS")
    point = next(iter(world.state.points.values()))
    typo = mpans.corrupt(point.mpan)
    assert not mpans.is_valid(typo)
    tx = world.send(Outgoing("IF-025", "ConsentGranularity", point.supplier, (regs,), typo))
    assert world.l4(tx) == ["REG0000"]
    assert _r0_of(world, regs, "IF-026", tx)[0]["responseMessages"] == ["REG0000 - MPAN Invalid or does not exist"]


def test_recipient_rejects_an_unknown_mpan_with_rcp1061(world: World) -> None:
    point = next(iter(world.state.points.values()))
    unknown = mpans.make(99, 1234567)
    assert mpans.is_valid(unknown) and world.state.point(unknown) is None
    tx = world.send(Outgoing("IF-021", "ActivePower", point.data_service, (point.supplier,), unknown))
    row = world.delivery(tx, point.supplier)
    assert row.state == "rejected"
    assert row.last_error.startswith("RCP1061 - MPAN Invalid or Unknown")


def test_metering_service_rules_energisation_and_appointment(world: World) -> None:
    regs = world.role("REGS")
    point = next(iter(world.state.points.values()))
    # An energisation change by the appointed metering service is applied and published (IF-008).
    tx = world.send(
        Outgoing(
            "IF-007",
            "EnergisationStatusChange",
            point.metering_service,
            (regs,),
            point.mpan,
            {"energisationStatus": "D"},
        )
    )
    assert world.l4(tx) == ["RCP0000"]
    assert world.state.point(point.mpan).energised is False  # type: ignore[union-attr]
    wait_for(lambda: world.messages_from(regs, "IF-008"), "IF-008 from registration")
    # A metering service that is not appointed is refused with REG1002.
    other = next(p.dip_id for p in world.state.of_role("MSS", "MSA") if p.dip_id != point.metering_service)
    refused = world.send(Outgoing("IF-005", "MeterExchange", other, (regs,), point.mpan, {"meterID": "SIM1"}))
    assert world.l4(refused) == ["REG1002"]
    # An appointment: supplier -> agent (IF-031), agent -> supplier (IF-032) and registration (IF-034),
    # registration -> IF-035 accepted; the state then names the new agent.
    asked = world.send(Outgoing("IF-031", "MSApp", point.supplier, (other,), point.mpan))
    assert world.l4(asked) == ["RCP0000"]
    wait_for(lambda: world.state.point(point.mpan).metering_service == other, "the new appointment")  # type: ignore[union-attr]
    wait_for(lambda: world.messages_from(regs, "IF-035"), "IF-035 from registration")
    assert world.messages_from(other, "IF-032") and world.messages_from(other, "IF-034")
