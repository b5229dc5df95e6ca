"""Shared by the operations tests: the `opendip` command as an operator runs it, sending batches, waiting."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import text

from opendip.messages.client import DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.databases import PG_DSN
from tests.helpers.hub import OPENDIP, HubProcess
from tests.helpers.receivers import ThreadedReceiver


def opendip(hub: HubProcess, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([OPENDIP, *args], env=hub.env, capture_output=True, text=True, timeout=300, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"opendip {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def opendip_json(hub: HubProcess, *args: str) -> Any:
    return json.loads(opendip(hub, *args).stdout)


def payloads(first: int, count: int) -> list[dict[str, Any]]:
    return [
        connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(first + i), distributor=LDSO) for i in range(count)
    ]


def send_batch(client: DipClient, first: int, count: int) -> list[str]:
    response = client.send("IF-043", payloads(first, count))
    assert response.status_code == 201, response.text
    return [m["transactionID"] for m in response.json()["messageArray"]]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A new database on the shared server (a restore target), dropped afterwards."""
    name = f"opendip_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Sender:
    """Sends batches back to back from a thread, across crashes and outages, recording every answer.

    `accepted` holds the transaction IDs of 201 answers only: those are the
    messages the hub promised to keep.
    """

    def __init__(self, base_url: str, credentials: Any, *, batch: int = 10, first: int = 10_000) -> None:
        self.base_url, self.credentials, self.batch = base_url, credentials, batch
        self.accepted: list[str] = []
        self.answers: list[tuple[float, int, str]] = []  # (time, HTTP status or 0 for no answer, first message)
        self._next = first
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def statuses_since(self, moment: float) -> list[int]:
        return [status for at, status, _ in list(self.answers) if at >= moment]

    def _run(self) -> None:
        with DipClient(self.base_url, self.credentials, timeout=10) as client:
            while not self._stop.is_set():
                first, self._next = self._next, self._next + self.batch
                try:
                    response = client.send("IF-043", payloads(first, self.batch))
                except httpx.HTTPError:
                    self.answers.append((time.time(), 0, ""))
                    time.sleep(0.05)
                    continue
                items = response.json().get("messageArray", [{}]) if response.content else [{}]
                self.answers.append((time.time(), response.status_code, str(items[0].get("message", ""))))
                if response.status_code == 201:
                    self.accepted += [item["transactionID"] for item in items]
                else:
                    time.sleep(0.05)


def outbox_problems(hub: HubProcess) -> dict[str, int]:
    """Deliveries not yet delivered and rows still leased: both must reach 0 once the hub has recovered."""
    query = text(
        "SELECT sum(CASE WHEN state <> 'delivered' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN lease_owner IS NOT NULL THEN 1 ELSE 0 END) FROM deliveries"
    )
    with hub.db.engine.connect() as conn:
        undelivered, leased = conn.execute(query).one()
    return {"undelivered": int(undelivered or 0), "leased": int(leased or 0)}


def report(name: str, **figures: Any) -> None:
    """Figures for the closing note: printed (run with -s to see them) and kept beside the test's logs."""
    print(f"FAULT-FIGURES {name} {json.dumps(figures, sort_keys=True)}")


def make_cast(hub: HubProcess, receiver_factory: Any, env: dict[str, str] | None = None) -> Cast:
    """The e2e cast (REGS sends, SUP and LDSO receive on real webhooks) with extra hub settings, started."""
    hub.env.update(env or {})
    sup_receiver, ldso_receiver = receiver_factory(), receiver_factory()
    regs = hub.add(REGS, "REGS")
    sup = hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
    ldso = hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
    hub.start()
    return Cast(hub, regs, sup, ldso, sup_receiver, ldso_receiver)


def delivered_figures(cast: Cast, accepted: list[str]) -> dict[str, int]:
    """Accepted, delivered, lost and duplicate counts over both recipients (every message goes to both)."""
    figures = {"accepted": len(accepted), "delivered": 0, "lost": 0, "duplicates": 0}
    for receiver in (cast.sup_receiver, cast.ldso_receiver):
        seen = receiver.transactions()
        figures["delivered"] += len(set(accepted) & set(seen))
        figures["lost"] += len(set(accepted) - set(seen))
        figures["duplicates"] += len(seen) - len(set(seen))
    return figures


class Receivers:
    """Webhook receivers trusting a hub's CA, for tests that build their own hub (no `hub` fixture)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.made: list[ThreadedReceiver] = []

    def make(self) -> ThreadedReceiver:
        ca = CertificateAuthority.init(self.data_dir / "pki")
        receiver = ThreadedReceiver(TrustStore.from_pem_files([ca.ca_path]))
        self.made.append(receiver)
        return receiver

    def __enter__(self) -> Receivers:
        return self

    def __exit__(self, *_: object) -> None:
        for receiver in self.made:
            receiver.close()
