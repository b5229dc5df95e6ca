"""A recipient back after a 72-hour outage: its backlog drains oldest first, at its own pace, honouring its
Retry-After, while the other recipient keeps receiving; the portal and /metrics show the backlog and an ETA.

The outage is simulated, not waited for: the recipient refuses while its backlog is sent, then the backlog
is aged 72 hours in the store (and made due, as its retries would be by then).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import text

from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import LDSO
from tests.helpers.hub import HubProcess
from tests.ops.support import make_cast, report, send_batch, wait_until

HOURS_72 = 72 * 3600.0
RATE = 25  # messages a second to one recipient: 300 backlog messages take at least 12 s
RETRY_AFTER = 2


class Recipient:
    """LDSO's webhook: refusing (the outage), then one 429 with Retry-After, then accepting; times recorded."""

    def __init__(self) -> None:
        self.mode = "down"
        self.accepted: list[tuple[float, str]] = []
        self.throttled_at: float | None = None

    def __call__(self, messages: list[dict[str, Any]]) -> Any:
        if self.mode == "down":
            return 503, b'{"messageArray":[]}'
        if self.throttled_at is None:
            self.throttled_at = time.time()
            return web.Response(status=429, headers={"Retry-After": str(RETRY_AFTER)}, text="slow down")
        now = time.time()
        self.accepted += [(now, m["payload"]["CommonBlock"]["D0"]["transactionID"]) for m in messages]
        return accept_all(messages)


@pytest.mark.slow
def test_72_hour_backlog_drains_in_order_at_its_pace_while_others_flow(hub: HubProcess, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    env = {
        "OPENDIP_DELIVERY_CONCURRENCY_PER_RECIPIENT": "1",
        "OPENDIP_DELIVERY_RATE_PER_RECIPIENT": str(RATE),
        "OPENDIP_BREAKER_COOLDOWN_SECONDS": "0.5",
        "OPENDIP_BREAKER_MAX_COOLDOWN_SECONDS": "1",
        "OPENDIP_RETRY_JITTER": "0",
        "OPENDIP_RETRY_SCHEDULE": "[" + ", ".join(["0"] + ["0.5"] * 99) + "]",  # nothing exhausted by the outage
    }
    cast = make_cast(hub, receiver_factory, env)
    ldso = Recipient()
    cast.ldso_receiver.set_behaviour(ldso)
    with cast.client(cast.regs) as client:
        backlog = [tx for batch in range(3) for tx in send_batch(client, batch * 100, 100)]
    cast.sup_receiver.wait_for(len(backlog), timeout=120)
    wait_until(lambda: len(cast.ldso_receiver.received) >= 1, 60, "the refusing recipient tried")
    park = "UPDATE deliveries SET next_attempt_at = :later WHERE recipient_dip_id = :r AND state = 'pending'"
    with hub.db.engine.begin() as conn:  # no more attempts while the outage is staged
        conn.execute(text(park), {"later": time.time() + HOURS_72, "r": LDSO})

    def parked() -> bool:
        query = (
            "SELECT count(*) FROM deliveries WHERE recipient_dip_id = :r AND state = 'pending' "
            "AND lease_owner IS NULL AND next_attempt_at > :soon"
        )
        with hub.db.engine.begin() as conn:
            if conn.execute(text(query), {"r": LDSO, "soon": time.time() + 3600}).scalar_one() == len(backlog):
                return True
            conn.execute(text(park), {"later": time.time() + HOURS_72, "r": LDSO})  # an attempt settled after us
            return False

    wait_until(parked, 120, "the backlog parked, no attempt in flight")
    ldso.mode = "up"
    with hub.db.engine.begin() as conn:  # 72 hours pass: the backlog is that old, and its retries are due
        conn.execute(text("UPDATE messages SET received_at = received_at - :h"), {"h": HOURS_72})
        conn.execute(
            text(
                "UPDATE deliveries SET created_at = created_at - :h, next_attempt_at = :now "
                "WHERE recipient_dip_id = :r AND state = 'pending'"
            ),
            {"h": HOURS_72, "now": time.time(), "r": LDSO},
        )
        waiting = conn.execute(
            text("SELECT count(*) FROM deliveries WHERE recipient_dip_id = :r AND state = 'pending'"), {"r": LDSO}
        ).scalar_one()
    assert waiting == len(backlog)

    live: list[str] = []
    stop = threading.Event()

    def keep_sending() -> None:  # the market carries on: both recipients get new messages during the drain
        with cast.client(cast.regs) as client:
            n = 0
            while not stop.is_set():
                live.extend(send_batch(client, 10_000 + n * 5, 5))
                n += 1
                stop.wait(0.3)

    sup_arrivals: list[tuple[float, str]] = []

    def sup_behaviour(messages: list[dict[str, Any]]) -> Any:
        sup_arrivals.extend((time.time(), m["payload"]["CommonBlock"]["D0"]["transactionID"]) for m in messages)
        return accept_all(messages)

    cast.sup_receiver.set_behaviour(sup_behaviour)
    sender = threading.Thread(target=keep_sending)
    back_at = time.time()
    sender.start()
    seen_page = seen_metric = False
    try:

        def drained() -> bool:
            nonlocal seen_page, seen_metric
            if not seen_page:
                page = httpx.get(hub.base_url + "/portal/backlog").text
                seen_page = LDSO in page and "ETA " in page and "72 h" in page
            if not seen_metric:
                metrics = httpx.get(hub.base_url + "/metrics").text
                seen_metric = f'opendip_recipient_backlog{{recipient="{LDSO}"}}' in metrics and any(
                    line.startswith(f'opendip_recipient_backlog_eta_seconds{{recipient="{LDSO}"}}')
                    and float(line.rsplit(" ", 1)[1]) > 0
                    for line in metrics.splitlines()
                )
            return set(backlog) <= {tx for _, tx in ldso.accepted}

        wait_until(drained, 300, "the 72-hour backlog delivered", every=0.5)
        drain_end = max(at for at, tx in ldso.accepted if tx in set(backlog))
    finally:
        stop.set()
        sender.join()
    wait_until(lambda: set(live) <= {tx for _, tx in ldso.accepted}, 120, "live messages delivered to LDSO too")
    cast.sup_receiver.wait_for(len(backlog) + len(live), timeout=120)

    order = [tx for _, tx in ldso.accepted]
    assert len(order) == len(set(order)), "no message accepted twice"
    assert order == backlog + live, "oldest first: the backlog in the order it was sent, then what came after"
    assert ldso.throttled_at is not None
    first_after = min(at for at, _ in ldso.accepted)
    assert first_after - ldso.throttled_at >= RETRY_AFTER - 0.1, "nothing sent to it before its Retry-After ran out"
    assert seen_page, "the portal showed the recipient's 72-hour backlog with an ETA"
    assert seen_metric, "/metrics showed the recipient's backlog and ETA"
    sup_during = [tx for at, tx in sup_arrivals if back_at <= at <= drain_end and tx in set(live)]
    assert sup_during, "the other recipient kept receiving new messages during the drain"
    drain_seconds = drain_end - back_at
    assert drain_seconds >= (len(backlog) - RATE) / RATE, "the drain kept to the recipient's pace"
    report(
        "drain-72h",
        backlog=len(backlog),
        drain_seconds=round(drain_seconds, 2),
        drain_rate=round(len(backlog) / drain_seconds, 1),
        live_sent=len(live),
        live_delivered_to_others_during_drain=len(sup_during),
    )
