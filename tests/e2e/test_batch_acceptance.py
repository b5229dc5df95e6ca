"""Batch acceptance: whole-batch like the live DIP by default (201 or 400), per-message 207 on request.

A third party's client (written from the published facts) sends the same mixed
batches to a hub in each mode, on SQLite and PostgreSQL; /validate follows the
same setting. What is stored is read from the database, what is delivered from
a real webhook.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from opendip.errors import Msg
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.helpers.third_party import ThirdPartyClient, codes

OK, BATCH, SCHEMA, DUPLICATE = (
    Msg.SUCCESS.spec.code,
    Msg.BATCH_NOT_PROCESSED.spec.code,
    Msg.SCHEMA_FAILURE.spec.code,
    Msg.DUPLICATE_REFERENCE.spec.code,
)


@dataclass
class Setup:
    mode: str
    hub: HubProcess
    client: ThirdPartyClient
    receiver: ThreadedReceiver

    def stored(self) -> int:
        with self.hub.db.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM messages").scalar() or 0)


@pytest.fixture(
    scope="module",
    params=[
        ("sqlite", "whole-batch"),
        ("sqlite", "per-message"),
        pytest.param(("postgres", "whole-batch"), marks=pytest.mark.postgres),
        pytest.param(("postgres", "per-message"), marks=pytest.mark.postgres),
    ],
    ids=lambda p: "-".join(p),
)
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    engine, mode = request.param
    tmp = tmp_path_factory.mktemp(f"batch-{engine}-{mode}")
    receiver = ThreadedReceiver(None)
    env = {} if mode == "whole-batch" else {"OPENDIP_BATCH_ACCEPTANCE": mode}
    with database_url(engine, tmp) as url:
        hub = HubProcess(tmp / "data", url, env=env)
        regs = hub.add(REGS, "REGS")
        hub.add(SUP, "SUP", webhook=receiver.url(f"/webhook/{SUP}"))
        hub.add(LDSO, "LDSO", webhook=receiver.url(f"/webhook/{LDSO}"))
        hub.start()
        yield Setup(mode, hub, ThirdPartyClient(hub.base_url, regs.api_key, regs.cert, regs.key), receiver)
        hub.close()
    receiver.close()


_seed = iter(range(500, 10_000))


def good() -> dict[str, Any]:
    return connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(next(_seed)), distributor=LDSO)


def bad() -> dict[str, Any]:
    payload = good()
    payload["CustomBlock"]["B023"]["connectionTypeIndicator"] = "Q"
    return payload


def test_a_mixed_batch(setup: Setup) -> None:
    before = setup.stored()
    response = setup.client.send("IF-043", good(), bad(), good())
    if setup.mode == "whole-batch":
        assert (response.status_code, codes(response)) == (400, [BATCH, SCHEMA, BATCH])
        assert setup.stored() == before, "nothing of a refused batch is stored"
    else:
        assert (response.status_code, codes(response)) == (207, [OK, SCHEMA, OK])
        assert setup.stored() == before + 2
    assert "connectionTypeIndicator" in response.json()["messageArray"][1]["help"]


def test_a_clean_batch_is_201_in_both_modes(setup: Setup) -> None:
    response = setup.client.send("IF-043", good(), good())
    assert (response.status_code, codes(response)) == (201, [OK, OK])
    sent = {line["transactionID"] for line in response.json()["messageArray"]}
    deadline = time.monotonic() + 60
    while not sent <= set(setup.receiver.transactions()) and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting on the condition; the deadline only bounds a failure
    assert sent <= set(setup.receiver.transactions())


def test_a_duplicate_found_at_store_time_refuses_the_whole_batch(setup: Setup) -> None:
    first = good()
    assert setup.client.send("IF-043", first).status_code == 201
    before = setup.stored()
    response = setup.client.send("IF-043", good(), first)
    if setup.mode == "whole-batch":
        assert (response.status_code, codes(response)) == (400, [BATCH, DUPLICATE])
        assert setup.stored() == before
    else:
        assert (response.status_code, codes(response)) == (207, [OK, DUPLICATE])
        assert setup.stored() == before + 1


def test_a_reference_repeated_within_one_batch_is_a_duplicate(setup: Setup) -> None:
    """The insert's ON CONFLICT finds the repeat; the batch is written again with MSG1006 named."""
    before = setup.stored()
    first = good()
    again = good()  # other content, the same reference: a reference duplicate, not a content one
    again["CommonBlock"]["S1"]["senderUniqueReference"] = first["CommonBlock"]["S1"]["senderUniqueReference"]
    response = setup.client.send("IF-043", first, good(), again)
    if setup.mode == "whole-batch":
        assert (response.status_code, codes(response)) == (400, [BATCH, BATCH, DUPLICATE])
        assert setup.stored() == before
    else:
        assert (response.status_code, codes(response)) == (207, [OK, OK, DUPLICATE])
        assert setup.stored() == before + 2
    assert first["CommonBlock"]["S1"]["senderUniqueReference"] in response.json()["messageArray"][2]["help"]


def test_a_resent_message_is_a_reference_duplicate_not_a_content_one(setup: Setup) -> None:
    """Resent whole, a message repeats its reference and its content: MSG1006, never the content flag."""
    first = good()
    assert setup.client.send("IF-043", first).status_code == 201
    before = setup.stored()
    response = setup.client.send("IF-043", good(), first, good())
    if setup.mode == "whole-batch":
        assert codes(response) == [BATCH, DUPLICATE, BATCH]
        assert setup.stored() == before
    else:
        assert (response.status_code, codes(response)) == (207, [OK, DUPLICATE, OK])
        items = response.json()["messageArray"]
        assert not any("flagged" in (item.get("help") or "") for item in items), items
        assert setup.stored() == before + 2


def test_validate_follows_the_setting(setup: Setup) -> None:
    response = setup.client.post("/validate/IF-043/ConnectionTypeChange", [{"payload": good()}, {"payload": bad()}])
    expected = 400 if setup.mode == "whole-batch" else 207
    assert response.status_code == expected, response.text
    assert codes(response)[0] == OK and SCHEMA in codes(response)[1:]
    clean = setup.client.post("/validate/IF-043/ConnectionTypeChange", [{"payload": good()}])
    assert clean.status_code == 201
