"""Back-pressure end to end: a sender whose recipient is down is refused 503 once its backlog passes the limit,
a sender with healthy recipients keeps sending, and the first is accepted again once its backlog drains."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opendip.errors import Msg
from opendip.messages.client import DipClient
from opendip.simulator.examples import connection_type_change, mpan_core
from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import LDSO, REGS, SUP, SUP2
from tests.helpers.hub import HubProcess

REGS2 = "1009012346"
MAX_PENDING = 10


@pytest.fixture
def hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    """A hub with a small per-sender backlog limit; retries and the breaker fast, so a returning recipient drains."""
    process = HubProcess(
        tmp_path / "data",
        db_url,
        env={
            "OPENDIP_BACKPRESSURE_MAX_PENDING": str(MAX_PENDING),
            "OPENDIP_BACKPRESSURE_HARD_LIMIT": "1000",
            "OPENDIP_BACKPRESSURE_MAX_AGE_SECONDS": "3600",
            "OPENDIP_RETRY_SCHEDULE": "[" + ", ".join(["0.3"] * 500) + "]",
            "OPENDIP_BREAKER_COOLDOWN_SECONDS": "0.3",
            "OPENDIP_BREAKER_MAX_COOLDOWN_SECONDS": "0.5",
        },
    )
    yield process
    process.close()


def ctc(sender: str, supplier: str, n: int) -> dict[str, Any]:
    return connection_type_change(sender, "REGS", [supplier], mpan=mpan_core(n), distributor=LDSO)


def down(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    return 503, b'{"message": "down for maintenance"}'


def until(condition: Callable[[], httpx.Response | None], what: str, timeout: float = 90.0) -> httpx.Response:
    """Repeat `condition` until it returns a response; the deadline only guards a hung hub."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = condition()
        if found is not None:
            return found
        time.sleep(0.02)  # a polling interval, not a wait for anything to happen
    raise AssertionError(f"timed out waiting for {what}")


def pending_rows(hub: HubProcess) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'").scalar_one())


def test_a_sender_with_a_down_recipient_is_pushed_back_and_others_keep_sending(
    hub: HubProcess, receiver_factory: Callable[[], Any]
) -> None:
    sup_receiver, sup2_receiver, ldso_receiver = receiver_factory(), receiver_factory(), receiver_factory()
    regs = hub.add(REGS, "REGS")
    regs2 = hub.add(REGS2, "REGS")
    hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
    hub.add(SUP2, "SUP", webhook=sup2_receiver.url(f"/webhook/{SUP2}"))
    hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
    # the distributor's copies are held too, so the first sender's backlog can only grow until the test lets
    # go: were they delivered meanwhile, a refusal counted on both rows of a message could lapse into a 201
    sup_receiver.set_behaviour(down)
    ldso_receiver.set_behaviour(down)
    hub.start()

    accepted: list[str] = []
    n = iter(range(100_000))
    with DipClient(hub.base_url, regs) as first, DipClient(hub.base_url, regs2) as second:

        def first_refused() -> httpx.Response | None:
            response = first.send("IF-043", [ctc(REGS, SUP, next(n))])
            if response.status_code == 201:
                accepted.extend(m["transactionID"] for m in response.json()["messageArray"])
                return None
            return response

        refused = until(first_refused, "the first sender to be refused")
        # each message leaves its two rows (supplier, distributor) pending: a burst of half the limit fits
        assert len(accepted) >= MAX_PENDING // 2
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        item = refused.json()["messageArray"][0]
        assert item["message"].startswith(Msg.UNAVAILABLE.spec.code)
        assert "back-pressure" in item["help"] and REGS in item["help"], item["help"]
        with hub.db.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT COUNT(*) FROM messages").scalar()
        assert stored == len(accepted), "a refused send stores nothing"

        healthy = [ctc(REGS2, SUP2, 50_000 + i) for i in range(3)]
        for payload in healthy:
            response = second.send("IF-043", [payload])
            assert response.status_code == 201, response.text
        sup2_receiver.wait_for(3, timeout=60)
        assert first.send("IF-043", [ctc(REGS, SUP, next(n))]).status_code == 503, "still behind"

        sup_receiver.set_behaviour(accept_all)
        ldso_receiver.set_behaviour(accept_all)
        until(lambda: None if pending_rows(hub) else httpx.Response(200), "the backlog to drain")

        def first_accepted() -> httpx.Response | None:
            response = first.send("IF-043", [ctc(REGS, SUP, next(n))])
            assert response.status_code in (201, 503), response.text
            return response if response.status_code == 201 else None

        until(first_accepted, "the first sender to be accepted again once its backlog drained")
