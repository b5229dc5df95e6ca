"""The simulator as a library: payloads for every interface, MPAN check digits, behaviours from a file."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opendip.catalogue.loader import load_catalogue
from opendip.simulator import mpan as mpans
from opendip.simulator import population
from opendip.simulator.behaviour import Behaviour, BehaviourBook, BehaviourError, L4Mix, Latency, parse
from opendip.simulator.engine import Simulation
from opendip.simulator.hubclient import HubClient
from opendip.simulator.payloads import PayloadFactory
from opendip.simulator.roles import Market
from opendip.simulator.state import MarketState


def test_every_catalogued_interface_and_event_gets_a_valid_message() -> None:
    catalogue = load_catalogue()
    factory = PayloadFactory(catalogue)
    m0 = {"MPANCore": mpans.make(10, 42), "distributorDIPID": "1100000001", "GSPGroupID": "_A"}
    built = 0
    for interface in catalogue.interfaces.values():
        version = factory.version(interface.id)
        for event in interface.versions[version].events:
            code = "AnyEvent" if event == "*" else event
            role = sorted(interface.sender_roles)[0]
            payload = factory.build(
                interface.id, code, sender="1009012345", role=role, recipients=["2300000900"], mpan=m0
            )
            assert catalogue.validate(payload, interface.id) == [], (interface.id, event)
            built += 1
    assert built == sum(len(i.versions[factory.version(i.id)].events) for i in catalogue.interfaces.values())
    assert len(catalogue.interfaces) == 60


def test_mpan_check_digits() -> None:
    made = mpans.make(14, 123456)
    assert mpans.is_valid(made) and made.startswith("14")
    assert not mpans.is_valid(mpans.corrupt(made))
    assert not mpans.is_valid("123")


def test_market_state_is_consistent() -> None:
    state = MarketState(population.standard())
    state.populate(5, seed=2)
    assert len(state.points) == 5 * 14
    assert all(mpans.is_valid(m) for m in state.points)
    for point in state.points.values():
        assert state.participants[point.distributor].gsp_group == point.gsp_group
        assert state.participants[point.supplier].role == "SUP"
    point = next(iter(state.points.values()))
    new = next(s.dip_id for s in state.of_role("SUP") if s.dip_id != point.supplier)
    old = state.change_supplier(point.mpan, new)
    assert point.supplier == new and point not in state.supplied_by(old)


def test_behaviour_file_is_read_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "behaviours.yaml"
    path.write_text(
        "default:\n  reject_rate: 0.1\nparticipants:\n  '2300000900':\n    l4: {missing: 1.0, on_time: 0}\n"
    )
    book = BehaviourBook()
    book.load(path)
    assert book.of("2300000900").l4.missing == 1.0 and book.of("2300000900").reject_rate == 0.1
    assert book.of("1100000001").reject_rate == 0.1
    path.write_text("default:\n  outages: [{start: 0, end: 10}]\n")
    os.utime(path, (1, 1))  # a new modification time, whatever the file system's clock resolution
    assert book.reload_if_changed()
    assert book.of("2300000900").l4.missing == 0.0
    assert book.of("2300000900").down(5.0, datetime.now(UTC)) is not None


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"reject_rate": 2}, "$.reject_rate"),
        ({"reject_codes": ["RCP0000"]}, "$.reject_codes"),
        ({"reject_codes": ["REG1021"]}, "$.reject_codes"),
        ({"l4": {"late": 0.7, "missing": 0.5}}, "$.l4"),
        ({"latency": {"kind": "gamma"}}, "$.latency.kind"),
        ({"colour": "red"}, "$.colour"),
        ({"outages": [{"start": 1}]}, "$.outages[0]"),
        ({"peak_slowdown": 0.5}, "$.peak_slowdown"),
    ],
)
def test_bad_behaviours_name_the_field(changes: dict, named: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BehaviourError, match=named.replace("$", r"\$").replace("[", r"\[")):
        parse(changes)


def test_latency_and_peak_slowdown() -> None:
    rng = random.Random(1)
    steady = Behaviour(latency=Latency(kind="fixed", median_ms=40), peak_slowdown=3)
    assert steady.answer_delay(rng, at_peak=False) == pytest.approx(0.04)
    assert steady.answer_delay(rng, at_peak=True) == pytest.approx(0.12)
    spread = Latency(kind="lognormal", median_ms=20, p90_ms=80)
    draws = sorted(spread.draw(rng) for _ in range(2000))
    assert draws[1000] == pytest.approx(20, rel=0.2) and draws[1800] == pytest.approx(80, rel=0.3)
    mix = L4Mix(on_time=0.5, late=0.5)
    assert {mix.draw(rng) for _ in range(200)} == {"on_time", "late"}


def test_partial_answers_and_outages_at_the_webhook() -> None:
    """The webhook answer itself: 207 with one published RCP rejection, and 503 during an outage."""
    state = MarketState(population.standard())
    state.populate(2)
    book = BehaviourBook(Behaviour(latency=Latency(kind="fixed", median_ms=0)))
    simulation = Simulation(Market(state, load_catalogue()), book, HubClient("http://127.0.0.1:9"))
    point = next(iter(state.points.values()))
    factory = simulation.factory

    def delivered(n: int) -> dict:  # type: ignore[type-arg]
        payload = factory.build(
            "IF-021", "ActivePower", sender=point.data_service, role="SDS", recipients=[point.supplier], mpan=point.m0()
        )
        payload["CommonBlock"]["D0"] = {"transactionID": f"T-{n}", "initialCorrelationID": "CI-1"}
        return {"payload": payload}

    async def scenario() -> None:
        simulation.rng.seed(4)
        book.set(
            point.supplier, {"partial_rate": 1.0, "reject_codes": ["RCP1023"], "l4": {"missing": 1.0, "on_time": 0}}
        )
        status, body = await simulation.deliver(point.supplier, [delivered(1), delivered(2)])
        assert status == 207
        assert sorted(__import__("orjson").loads(body)["messageArray"], key=lambda i: i["transactionID"])[0][
            "message"
        ] in (
            "RCP0000 - Message Success",
            "RCP1023 - Msg Contains Invalid Valid Value Combination(s)",
        )
        messages = [i["message"][:7] for i in __import__("orjson").loads(body)["messageArray"]]
        assert sorted(messages) == ["RCP0000", "RCP1023"]
        book.set(point.supplier, {"outages": [{"start": 0, "end": 1e9, "status": 503}]})
        assert (await simulation.deliver(point.supplier, [delivered(3)]))[0] == 503
        await simulation.drain(10)

    asyncio.run(scenario())
