"""Behaviours through a real hub: rejections, outages, L4 late/missing/wrong, duplicate sends."""

from __future__ import annotations

from opendip.simulator.inbound import Outgoing
from tests.simulator.world import World, wait_for


def test_behaviours_change_while_running_and_the_hub_sees_them(world: World) -> None:
    point = next(iter(world.state.points.values()))
    supplier, reader = point.supplier, point.data_service

    def consumption() -> str:
        return world.send(Outgoing("IF-021", "ActivePower", reader, (supplier,), point.mpan))

    # Rejection with a chosen published code: the hub records the recipient's 400 as a rejection.
    world.book.set(supplier, {"reject_rate": 1.0, "reject_codes": ["RCP1023"]})
    rejected = world.delivery(consumption(), supplier)
    assert rejected.state == "rejected" and rejected.last_error.startswith("RCP1023")

    # An outage: the hub retries (503) and delivers once the outage is lifted.
    world.book.set(supplier, {"reject_rate": 0.0, "outages": [{"start": 0, "end": 1e9}]})
    held = consumption()
    wait_for(lambda: world.simulation.ledger.outage_answers >= 2, "the hub retrying during the outage")
    assert (
        world.rows(
            "SELECT state FROM deliveries WHERE transaction_id = :tx AND recipient_dip_id = :r", tx=held, r=supplier
        )[0].state
        == "pending"
    )
    world.book.set(supplier, {"outages": []})
    assert world.delivery(held, supplier).state == "delivered"

    # L4 statuses: missing (none reaches the hub), wrong (contradicts the delivery), late (arrives after a while).
    world.book.set(supplier, {"l4": {"missing": 1.0, "on_time": 0.0}})
    missing = consumption()
    assert world.delivery(missing, supplier).state == "delivered"
    wait_for(lambda: world.simulation.ledger.l4[("missing", "RCP0000")] >= 1, "the status not sent")
    world.book.set(supplier, {"l4": {"missing": 0.0, "wrong": 1.0}})
    wrong = consumption()
    assert world.l4(wrong, supplier) == ["RCP1000"] and world.delivery(wrong, supplier).state == "delivered"
    world.book.set(supplier, {"l4": {"wrong": 0.0, "late": 1.0, "late_seconds": 0.5}})
    late = consumption()
    assert world.l4(late, supplier) == ["RCP0000"]
    wait_for(lambda: world.simulation.ledger.l4[("late", "RCP0000")] >= 1, "the late status counted as late")
    sql = "SELECT count(*) AS n FROM status_messages WHERE transaction_id = :tx AND reporter_dip_id = :r"
    assert world.rows(sql, tx=missing, r=supplier)[0].n == 0

    # Duplicate sends: the same content under a new reference; the hub notices the duplicate.
    world.book.set(reader, {"duplicate_rate": 1.0})
    consumption()
    found = wait_for(
        lambda: world.rows("SELECT count(*) AS n FROM content_duplicates WHERE sender_dip_id = :s", s=reader)[0].n,
        "the hub flagging the duplicate",
    )
    assert found >= 1 and world.simulation.ledger.duplicates_sent >= 1
