"""Stop and start: a participant's inbound API (messages held, not lost, then flowing in order)
and its outbound sending (refused with MSG3050 until started), through the real CLI and hub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from opendip.cli import app
from opendip.db.models import deliveries
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.receivers import ThreadedReceiver
from tests.participants.hubs import DB_KINDS, code_of, eventually, hub_on


@pytest.fixture(scope="module", params=DB_KINDS)
def cast(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cast]:
    """The usual cast (REGS sends, SUP and LDSO receive on real webhooks), one hub per database."""
    with hub_on(request.param, tmp_path_factory.mktemp(f"traffic-{request.param}")) as hub:
        sup_receiver, ldso_receiver = ThreadedReceiver(None), ThreadedReceiver(None)
        regs = hub.add(REGS, "REGS")
        sup = hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
        ldso = hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
        hub.start()
        yield Cast(hub, regs, sup, ldso, sup_receiver, ldso_receiver)
        sup_receiver.close()
        ldso_receiver.close()


def cli(cast: Cast, *args: str) -> Result:
    """The real `opendip` command, in this process, against the running hub's database."""
    env = {k: v for k, v in cast.hub.env.items() if k.startswith("OPENDIP_")}
    done = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    return done


def ctc(n: int) -> dict:  # type: ignore[type-arg]
    return connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)


def test_a_stopped_inbound_api_holds_messages_and_they_flow_in_order_when_started(cast: Cast) -> None:
    cli(cast, "participant", "stop", SUP, "--receiving")
    with cast.client(cast.regs) as client:
        accepted = []
        for n in range(3):
            response = client.send("IF-043", [ctc(10 + n)])
            assert response.status_code == 201, response.text
            accepted.append(response.json()["messageArray"][0]["transactionID"])
    assert sorted(cast.ldso_receiver.wait_for(3)) == sorted(accepted), "others are delivered as usual"
    assert cast.sup_receiver.transactions() == [], "nothing reaches a participant whose API is stopped"
    with cast.hub.db.engine.connect() as conn:
        held = conn.execute(
            select(deliveries.c.state, deliveries.c.attempts).where(deliveries.c.recipient_dip_id == SUP)
        ).all()
    assert [tuple(r) for r in held] == [("pending", 0)] * 3, "held: not attempted, not failed, not lost"
    started = cli(cast, "participant", "start", SUP, "--receiving")
    assert '"receivingStoppedAt": null' in started.stdout
    assert cast.sup_receiver.wait_for(3) == accepted, "all of them, oldest first"


def test_stopped_sending_is_refused_until_started(cast: Cast) -> None:
    cli(cast, "participant", "stop", REGS, "--sending")
    with cast.client(cast.regs) as client:
        refused = eventually(lambda: client.send("IF-043", [ctc(20)]), 403)
        assert code_of(refused) == "MSG3050" and "stopped its outbound sending" in refused.text
        cli(cast, "participant", "start", REGS, "--sending")
        accepted = eventually(lambda: client.send("IF-043", [ctc(21)]), 201)
    assert accepted.json()["messageArray"][0]["message"] == "MSG0000 - Success"
    audit = cli(cast, "audit", "--limit", "20").stdout
    for action in ("participant.stop_sending", "participant.start_sending"):
        assert action in audit
