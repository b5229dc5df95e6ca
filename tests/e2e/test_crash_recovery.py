"""Kill -9 the hub mid-delivery, restart it: every accepted message still arrives, de-duplicable by ID."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from opendip.simulator.examples import connection_type_change, mpan_core
from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import LDSO, REGS, SUP, Cast


def test_sigkill_during_delivery_loses_nothing(cast: Cast) -> None:
    async def slow(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        await asyncio.sleep(0.2)
        return accept_all(messages)

    cast.sup_receiver.set_behaviour(slow)
    with cast.client(cast.sup) as client:
        assert client.set_webhook("IF-043", SUP, cast.sup_receiver.url("/slow"), maxMessageCount=5).status_code == 201
    accepted: list[str] = []
    with cast.client(cast.regs) as client:
        for batch in range(6):
            payloads = [
                connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(batch * 50 + i), distributor=LDSO)
                for i in range(50)
            ]
            response = client.send("IF-043", payloads)
            assert response.status_code == 201
            accepted += [m["transactionID"] for m in response.json()["messageArray"]]

    cast.sup_receiver.wait_for(10, timeout=30)
    cast.hub.kill()
    delivered_before = set(cast.sup_receiver.transactions())
    assert len(delivered_before) < len(accepted), "the crash must happen mid-delivery"

    cast.sup_receiver.set_behaviour(accept_all)
    cast.hub.start()
    deadline = time.time() + 60
    while not set(accepted) <= set(cast.sup_receiver.transactions()) and time.time() < deadline:
        time.sleep(0.1)
    delivered = cast.sup_receiver.transactions()
    assert set(delivered) == set(accepted)
    # at-least-once: a batch in flight at the crash may come twice, always with the same transactionID
    assert len(delivered) - len(set(delivered)) <= 10
    for record in cast.sup_receiver.received:
        assert record.verified
