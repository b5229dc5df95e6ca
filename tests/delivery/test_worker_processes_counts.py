"""The dashboard's hourly counts with three `opendip up --role worker` processes settling the same messages.

Each message goes to three recipients, so its three rows are claimed and settled by whichever worker
process gets them, at once: every settle must see the others' (core/hour_counts.py locks the message
first). After the drain the counts equal a recount of the rows, and every message is counted delivered.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from opendip.simulator.receiver import accept_all
from tests.delivery.seed import add_participant, add_webhook, payload
from tests.delivery.test_worker_processes import WORKERS, _start_workers, _wait
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.portal.test_hour_counts import assert_exact, ingest, kept

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # three hub processes start up: minutes on a busy machine

RECIPIENTS = ("2300000941", "2300000942", "2300000943")
MESSAGES = 300


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubProcess]:
    async def jittery(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        await asyncio.sleep(0.01 * (len(messages) % 3))  # the recipients answer at different paces
        return accept_all(messages)

    receivers = [ThreadedReceiver(None) for _ in RECIPIENTS]
    for receiver in receivers:
        receiver.set_behaviour(jittery)
    processes: list[subprocess.Popen[bytes]] = []
    with database_url(request.param, tmp_path) as url:
        env = {"OPENDIP_DELIVERY_CONCURRENCY_PER_RECIPIENT": "1", "OPENDIP_DELIVERY_LEASE_SECONDS": "150"}
        plant = HubProcess(tmp_path / "data", url, env=env)
        try:
            for dip_id, receiver in zip(RECIPIENTS, receivers, strict=True):
                add_participant(plant.db, dip_id)
                add_webhook(plant.db, dip_id, receiver.url(f"/hook/{dip_id}"), max_count=7)
            processes += _start_workers(plant, WORKERS)
            yield plant
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            plant.close()
            for receiver in receivers:
                receiver.close()


def _delivered(hub: HubProcess) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'")).scalar_one())


def test_three_worker_processes_settling_one_messages_rows_lose_no_count(hub: HubProcess) -> None:
    at = time.time()
    for first in range(0, MESSAGES, 50):  # ingest's own store, in batches, while the workers drain
        ingest(hub.db, first, 50, at, RECIPIENTS, "IF-043", orjson.dumps(payload(RECIPIENTS[0])))
    _wait(lambda: _delivered(hub) == MESSAGES * len(RECIPIENTS), "every delivery", 600)
    assert_exact(hub.db)
    table = kept(hub.db)
    hour = int(at // 3600)
    success = sum(n for (h, _, r, s), n in table.items() if r == "" and s == "success" and h in (hour, hour + 1))
    assert success == MESSAGES
    assert not [key for key in table if key[3] == "pending"]
