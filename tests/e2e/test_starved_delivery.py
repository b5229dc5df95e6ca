"""A hub starved of CPU while a recipient's answer waits in its socket: the answer counts, nothing is sent twice.

CPU starvation is made deterministic with SIGSTOP: the recipient stops the hub process the moment a POST
arrives, answers 201 (the answer waits in the hub's socket), and lets the hub run again only after the
delivery timeout and the lease have both run out. A hub that wakes to an overdue timer and an answer
already in hand must read the answer, not count the attempt as timed out and re-send the batch.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from sqlalchemy import text

from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import LDSO
from tests.helpers.hub import HubProcess
from tests.ops.support import make_cast, send_batch, wait_until

TIMEOUT, LEASE = 2.0, 3.0
STOPPED_FOR = LEASE + 1.0  # past the POST's timeout and the rows' lease


def test_an_answer_that_arrived_while_the_hub_was_starved_is_read_and_nothing_sent_twice(
    hub: HubProcess, receiver_factory: Any
) -> None:
    env = {
        "OPENDIP_DELIVERY_TIMEOUT_SECONDS": str(TIMEOUT),
        "OPENDIP_DELIVERY_LEASE_SECONDS": str(LEASE),
        "OPENDIP_DELIVERY_CONCURRENCY_PER_RECIPIENT": "1",
    }
    cast = make_cast(hub, receiver_factory, env)
    assert hub.process is not None
    pid = hub.process.pid
    stopped = threading.Event()
    resumed = threading.Event()

    def starve_the_hub(messages: list[dict[str, Any]]) -> Any:
        if not stopped.is_set():  # the first POST: the hub gets no CPU until well after its timeout and lease
            stopped.set()
            os.kill(pid, signal.SIGSTOP)

            def resume() -> None:
                os.kill(pid, signal.SIGCONT)
                resumed.set()

            threading.Timer(STOPPED_FOR, resume).start()
        return accept_all(messages)

    cast.ldso_receiver.set_behaviour(starve_the_hub)
    try:
        with cast.client(cast.regs) as client:
            sent = send_batch(client, 0, 3)
        wait_until(resumed.is_set, 120, "the hub stopped and resumed")

        def settled() -> bool:
            query = "SELECT count(*) FROM deliveries WHERE recipient_dip_id = :r AND state = 'delivered'"
            with hub.db.engine.connect() as conn:
                return conn.execute(text(query), {"r": LDSO}).scalar_one() == len(sent)

        wait_until(settled, 120, "the starved POST's rows delivered")
        cast.sup_receiver.wait_for(len(sent), timeout=120)
    finally:
        if stopped.is_set():
            os.kill(pid, signal.SIGCONT)  # never leave a stopped hub behind
    with hub.db.engine.connect() as conn:
        attempts = conn.execute(
            text("SELECT attempts FROM deliveries WHERE recipient_dip_id = :r"), {"r": LDSO}
        ).scalars()
        assert set(attempts) == {1}, "one attempt: the answer that waited in the socket was read"
    seen = cast.ldso_receiver.transactions()
    assert sorted(seen) == sorted(sent), f"each message once, got {len(seen)} for {len(sent)}"
    assert sorted(cast.sup_receiver.transactions()) == sorted(sent)
