"""Crash safety: SIGTERM drains and releases claims; kill -9 at random moments; the store down, full, read-only.

Each test prints its figures (accepted, delivered, lost, duplicates, recovery
time) on a FAULT-FIGURES line: run with -s to read them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import subprocess
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest

from opendip.simulator.receiver import accept_all
from tests.helpers.databases import PG_DSN, postgres_available, postgres_schema_url
from tests.helpers.hub import HubProcess
from tests.helpers.missing import not_here
from tests.ops.support import (
    Receivers,
    Sender,
    delivered_figures,
    make_cast,
    outbox_problems,
    report,
    send_batch,
    wait_until,
)
from tests.ops.tcp_proxy import CuttableProxy

SEED = 1515
KILLS = 4


def all_delivered(cast: Any, accepted: list[str]) -> bool:
    want = set(accepted)
    return want <= set(cast.sup_receiver.transactions()) and want <= set(cast.ldso_receiver.transactions())


@pytest.mark.slow
def test_sigterm_drains_within_the_bound_and_releases_claims(hub: HubProcess, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    env = {
        "OPENDIP_SHUTDOWN_GRACE_SECONDS": "1",
        "OPENDIP_DELIVERY_TIMEOUT_SECONDS": "20",
        "OPENDIP_DELIVERY_LEASE_SECONDS": "60",  # without the release, cut-off rows would wait a minute
    }
    cast = make_cast(hub, receiver_factory, env)
    released = threading.Event()

    async def stall(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        while not released.is_set():  # no answer while the hub shuts down: the grace bound must cut it off
            await asyncio.sleep(0.05)
        return accept_all(messages)

    cast.sup_receiver.set_behaviour(stall)
    with cast.client(cast.regs) as client:
        accepted = [tx for batch in range(4) for tx in send_batch(client, batch * 25, 25)]
    wait_until(lambda: len(cast.sup_receiver.received) >= 1, 60, "a delivery in flight")
    wait_until(lambda: outbox_problems(cast.hub)["leased"] >= 1, 30, "a claim held")
    assert cast.hub.process is not None
    signalled = time.time()
    cast.hub.process.send_signal(signal.SIGTERM)
    exit_code = cast.hub.process.wait(120)
    drained_in = time.time() - signalled
    released.set()
    assert exit_code in (0, -signal.SIGTERM), "a clean stop (uvicorn re-raises the signal once it has shut down)"
    assert outbox_problems(cast.hub)["leased"] == 0, "claims released on the way out"
    assert "delivery worker stopped" in cast.hub.log_path.read_text()

    cast.sup_receiver.set_behaviour(accept_all)
    restarted = time.time()
    cast.hub.start()
    wait_until(lambda: all_delivered(cast, accepted), 120, "every accepted message delivered after the restart")
    figures = delivered_figures(cast, accepted)
    assert figures["lost"] == 0
    # only batches cut off unanswered are sent again: at most 2 in flight per recipient, 50 messages each
    assert figures["duplicates"] <= 2 * 2 * 50
    recovery = round(time.time() - restarted, 2)
    report("sigterm", drained_seconds=round(drained_in, 2), recovery_seconds=recovery, **figures)


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing_leaves_nothing_claimed(hub: HubProcess, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(SEED)
    cast = make_cast(hub, receiver_factory)

    async def jittery(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        await asyncio.sleep(0.05)  # keeps batches in flight when the kill lands
        return accept_all(messages)

    cast.sup_receiver.set_behaviour(jittery)
    sender = Sender(cast.hub.base_url, cast.regs).start()
    recoveries = []
    try:
        for _ in range(KILLS):
            target = len(sender.accepted) + 10 * rng.randint(1, 6)
            wait_until(lambda t=target: len(sender.accepted) >= t, 120, "sends accepted before the kill")  # type: ignore[misc]
            time.sleep(rng.uniform(0.0, 0.3))  # the moment: mid-request, mid-claim or mid-delivery
            cast.hub.kill()
            started = time.time()
            cast.hub.start()
            recoveries.append(round(time.time() - started, 2))
        wait_until(lambda: len(sender.accepted) >= target + 20, 120, "sends accepted after the last restart")
    finally:
        sender.stop()
    accepted = list(sender.accepted)
    drain_from = time.time()
    wait_until(lambda: all_delivered(cast, accepted), 180, "every accepted message delivered")
    wait_until(lambda: outbox_problems(cast.hub) == {"undelivered": 0, "leased": 0}, 120, "no row left claimed")
    figures = delivered_figures(cast, accepted)
    assert figures["lost"] == 0
    assert figures["duplicates"] <= KILLS * 2 * 2 * 50  # per kill: the unrecorded batches in flight, re-sent
    report(
        "kill-9",
        kills=KILLS,
        seed=SEED,
        restart_seconds=recoveries,
        final_drain_seconds=round(time.time() - drain_from, 2),
        **figures,
    )


def wait_for_outage_and_recovery(sender: Sender, cut: Any, restore: Any) -> dict[str, Any]:
    """Cut the store mid-load, see 503s (MSG5003 + Retry-After), restore it, time until sends succeed again."""
    wait_until(lambda: len(sender.accepted) >= 30, 120, "load under way")
    cut_at = time.time()
    cut()
    wait_until(lambda: sender.statuses_since(cut_at).count(503) >= 3, 60, "503 answers while the store is down")
    refusals = [a for a in sender.answers if a[0] >= cut_at and a[1] == 503]
    assert all(message.startswith("MSG5003") for _, _, message in refusals)
    other = {status for status in sender.statuses_since(cut_at) if status not in (201, 503)}
    assert other <= {0}, f"answers other than 201/503 while the store was down: {other}"
    restored_at = time.time()
    restore()
    wait_until(lambda: 201 in sender.statuses_since(restored_at), 120, "sends accepted again")
    first_ok = min(at for at, status, _ in sender.answers if at >= restored_at and status == 201)
    return {"refused_503": len(refusals), "recovery_seconds": round(first_ok - restored_at, 2)}


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_unreachable_mid_load_answers_503_and_recovers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not postgres_available():
        not_here("PostgreSQL at 127.0.0.1:5432 did not answer: PostgreSQL tests SKIPPED")
    proxy = CuttableProxy(("127.0.0.1", 5432))
    with postgres_schema_url() as url, Receivers(tmp_path / "data") as receivers:
        hub = HubProcess(tmp_path / "data", url)
        try:
            proxied = url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
            cast = make_cast(hub, receivers.make, {"OPENDIP_DATABASE_URL": proxied})
            sender = Sender(hub.base_url, cast.regs).start()
            try:
                figures = wait_for_outage_and_recovery(sender, proxy.cut, proxy.restore)
                wait_until(lambda: len(sender.accepted) >= 60, 120, "more sends accepted after recovery")
            finally:
                sender.stop()
            accepted = list(sender.accepted)
            wait_until(lambda: all_delivered(cast, accepted), 180, "every accepted message delivered")
            wait_until(lambda: outbox_problems(hub) == {"undelivered": 0, "leased": 0}, 180, "nothing left claimed")
            delivered = delivered_figures(cast, accepted)
            assert delivered["lost"] == 0
            report("postgres-unreachable", **figures, **delivered)
        finally:
            hub.close()
            proxy.close()


@pytest.fixture
def small_disk(tmp_path):  # type: ignore[no-untyped-def]
    """A 6 MB tmpfs for the SQLite store: real ENOSPC and a real read-only remount."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_full_sqlite_store_answers_503_and_recovers(small_disk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    filler = small_disk / "filler"

    def fill() -> None:
        with filler.open("wb") as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()

    with Receivers(tmp_path / "data") as receivers:
        hub = HubProcess(tmp_path / "data", f"sqlite:///{small_disk / 'opendip.db'}")
        try:
            run_store_fault(hub, receivers, "sqlite-full", fill, filler.unlink)
        finally:
            hub.close()


@pytest.mark.slow
def test_read_only_sqlite_store_answers_503_and_recovers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The store file and its write-ahead log turn immutable under the running hub: writes through its open
    handles fail as on a read-only mount (a real remount is refused while the hub holds the file open)."""
    store = tmp_path / "store" / "opendip.db"
    store.parent.mkdir()
    files = [store, store.with_name("opendip.db-wal")]

    def immutable(on: bool) -> None:
        done = subprocess.run(["chattr", "+i" if on else "-i", *map(str, files)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    probe = tmp_path / "probe"
    probe.touch()
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable attribute (chattr +i)")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    with Receivers(tmp_path / "data") as receivers:
        hub = HubProcess(tmp_path / "data", f"sqlite:///{store}")
        try:
            run_store_fault(hub, receivers, "sqlite-read-only", lambda: immutable(True), lambda: immutable(False))
            assert '"kind": "read-only"' in hub.log_path.read_text(), "the 503s were told apart as a read-only store"
        finally:
            subprocess.run(["chattr", "-i", *map(str, files)], check=False)
            hub.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_read_only_postgres_store_answers_503_and_recovers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A database that turns read-only (as a demoted primary does), for the hub's role only: the server is shared."""
    if not postgres_available():
        not_here("PostgreSQL at 127.0.0.1:5432 did not answer: PostgreSQL tests SKIPPED")
    role = f"opendip_ro_{uuid.uuid4().hex[:8]}"
    with postgres_schema_url() as url, Receivers(tmp_path / "data") as receivers:
        hub = HubProcess(tmp_path / "data", url)
        schema = url.rsplit("%3D", 1)[1]
        admin("CREATE ROLE {r} LOGIN", role)
        admin(f"GRANT ALL ON SCHEMA {schema} TO {{r}}", role)
        admin(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {{r}}", role)
        admin(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {{r}}", role)

        def read_only(on: bool) -> None:
            admin("ALTER ROLE {r} SET default_transaction_read_only = " + ("on" if on else "off"), role)
            admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{r}'", role)

        try:
            hub.env["OPENDIP_DATABASE_URL"] = url.replace("postgres@", f"{role}@")
            run_store_fault(hub, receivers, "postgres-read-only", lambda: read_only(True), lambda: read_only(False))
        finally:
            hub.close()
            admin(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {{r}}", role)
            admin(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {{r}}", role)
            admin(f"REVOKE ALL ON SCHEMA {schema} FROM {{r}}", role)
            admin("DROP ROLE IF EXISTS {r}", role)


def admin(statement: str, role: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(statement.format(r=role))  # type: ignore[arg-type]


def run_store_fault(hub: HubProcess, receivers: Receivers, name: str, cut: Any, restore: Any) -> None:
    cast = make_cast(hub, receivers.make)
    sender = Sender(hub.base_url, cast.regs, batch=5).start()
    try:
        figures = wait_for_outage_and_recovery(sender, cut, restore)
        wait_until(lambda: len(sender.accepted) >= 60, 120, "more sends accepted after recovery")
    finally:
        sender.stop()
    accepted = list(sender.accepted)
    wait_until(lambda: all_delivered(cast, accepted), 180, "every accepted message delivered")
    delivered = delivered_figures(cast, accepted)
    assert delivered["lost"] == 0
    report(name, **figures, **delivered)
