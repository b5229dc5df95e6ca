"""The dashboard's hourly counts under real traffic: the hub in its own process, real receivers, both stores.

Deliveries succeed, are rejected, fail and are retried until they succeed, fail until their retries are
exhausted; the exhausted ones are requeued and delivered, a recipient's deliveries are replayed; then
retention purges every message and restores them from the archive. After each step the counts the hub
kept (core/hour_counts.py) equal a recount of the rows (in SQL, and by hand), and the dashboard's
numbers over a window of whole hours equal the ones counted from the rows alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from opendip.config import Settings
from opendip.messages.client import DipClient
from opendip.ops.retention import RetentionService
from opendip.portal import aggregates
from opendip.portal.query import Bound
from opendip.replay.filters import ReplayFilter
from opendip.replay.service import RequeueService, Scope
from opendip.simulator.examples import mpan_core
from opendip.simulator.receiver import accept_all
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.portal.test_hour_counts import ADMIN, assert_exact, kept
from tests.portal.world import REGS, ctc, rejecting, start_hub

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SUP, LDSO, FLAKY, DOWN = "2300000900", "1100000001", "2300000931", "2300000932"
FAIL_MPAN = mpan_core(40)


def _wait(hub: HubProcess, condition: Callable[[], bool], what: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{hub.log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def _pending(hub: HubProcess) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")).scalar_one())


def _states(hub: HubProcess) -> dict[str, int]:
    with hub.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT state, COUNT(*) FROM deliveries GROUP BY state")).all()
    return {str(s): int(n) for s, n in rows}


def _flaky() -> Callable[[list[dict[str, Any]]], tuple[int, bytes]]:
    """503 the first time it sees a message, 201 on its retry."""
    seen: set[str] = set()

    def behaviour(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        ids = {m["payload"]["CommonBlock"]["D0"]["transactionID"] for m in messages}
        if ids - seen:
            seen.update(ids)
            return 503, b'{"message": "busy"}'
        return accept_all(messages)

    return behaviour


def _assert_dashboard(hub: HubProcess) -> None:
    """The current hour whole inside the window (from the table), half an hour either side counted from rows."""
    hour = int(time.time() // 3600) * 3600
    since, until = Bound(hour - 1800.0, ""), Bound(hour + 5400.0, "")
    with hub.db.engine.connect() as conn:
        assert aggregates.hourly(ADMIN, since, until) is not None
        assert aggregates.interface_outcomes(conn, ADMIN, since, until) == aggregates._interface_outcomes(
            conn, ADMIN, since, until
        )
        assert aggregates.recipient_states(conn, ADMIN, since, until) == aggregates._recipient_states(
            conn, ADMIN, since, until
        )
        assert aggregates.recipient_states(conn, ADMIN, None, None) == aggregates._recipient_states(
            conn, ADMIN, None, None
        )


def _requeue(hub: HubProcess, recipient: str, states: tuple[str, ...]) -> None:
    RequeueService(hub.db).start(Scope("channel", recipient, ("IF-043",)), ReplayFilter(states=states))


def test_real_traffic_keeps_the_dashboards_hourly_counts_exact(db_url: str, tmp_path: Path) -> None:
    receivers = {dip_id: ThreadedReceiver(None) for dip_id in (SUP, LDSO, FLAKY, DOWN)}
    receivers[LDSO].set_behaviour(rejecting(FAIL_MPAN))
    receivers[FLAKY].set_behaviour(_flaky())
    receivers[DOWN].set_behaviour(lambda messages: (503, b'{"message": "down"}'))
    env = {"OPENDIP_BREAKER_FAILURE_THRESHOLD": "1000", "OPENDIP_RETRY_SCHEDULE": "[0, 0.1, 0.2]"}
    hub = HubProcess(tmp_path / "data", db_url, env=env)
    try:
        regs = hub.add(REGS, "REGS")
        for dip_id, receiver in receivers.items():
            hub.add(dip_id, "LDSO" if dip_id == LDSO else "SUP", webhook=receiver.url(f"/webhook/{dip_id}"))
        start_hub(hub)
        payloads = [
            ctc(FAIL_MPAN if n % 5 == 0 else mpan_core(100 + n), [SUP, LDSO, FLAKY if n % 2 else DOWN])
            for n in range(16)
        ]
        with DipClient(hub.base_url, regs) as client:
            for at in range(0, len(payloads), 4):
                response = client.send("IF-043", payloads[at : at + 4])
                assert response.status_code == 201, response.text
        _wait(hub, lambda: _pending(hub) == 0, "every delivery to settle")
        # SUP 16 delivered, LDSO 12 delivered and 4 rejected, FLAKY 8 delivered on a retry, DOWN 8 exhausted
        assert _states(hub) == {"delivered": 36, "rejected": 4, "exhausted": 8}
        assert_exact(hub.db)
        _assert_dashboard(hub)

        receivers[DOWN].set_behaviour(accept_all)  # back up: its exhausted deliveries requeued, then delivered
        _requeue(hub, DOWN, ("exhausted",))
        _wait(hub, lambda: _states(hub).get("delivered", 0) >= 36 + 8, "the requeued deliveries")
        _wait(hub, lambda: _pending(hub) == 0, "the requeue to settle")
        assert_exact(hub.db)
        _requeue(hub, SUP, ())  # a replay of every delivery to SUP
        _wait(hub, lambda: _states(hub).get("delivered", 0) >= 36 + 8 + 16, "the replayed deliveries")
        _wait(hub, lambda: _pending(hub) == 0, "the replay to settle")
        assert_exact(hub.db)
        _assert_dashboard(hub)
        hub.stop()

        later = time.time() + 3 * 86400  # retention three days on: every message old enough, none held
        settings = Settings(data_dir=tmp_path / "data", database_url=db_url, retention_messages_days=1)
        retention = RetentionService(settings, hub.db, clock=lambda: later)
        (result,) = retention.run(["messages"])
        assert result.purged > 0 and result.purged + result.held == 16
        assert_exact(hub.db)
        if result.purged == 16:
            assert not kept(hub.db)
            with hub.db.engine.connect() as conn:  # the emptied hours' rows are gone, not left at zero
                assert conn.execute(text("SELECT COUNT(*) FROM hour_counts")).scalar_one() == 0
        for archive in result.archives:
            retention.restore(archive)
        assert len(kept(hub.db)) > 0
        assert_exact(hub.db)
    finally:
        hub.close()
        for receiver in receivers.values():
            receiver.close()
