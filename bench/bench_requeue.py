"""Requeue without limits: 100,000 stored messages re-delivered by one requeue call.

The real DIP's portal requeues 100 messages at a time. This benchmark stores
N messages through the real send API (`opendip up`, role all), lets them be
delivered to bench/receiver.py, points the recipient's webhook at a fresh path
and times one `POST /dip-channel/IF-043/requeue/{SUP}` with an empty filter:
the 202 answer, the enqueue (outbox rows created), the last re-delivery at
the receiver, and the moment requeueStatus says Completed. It also times
requeueStatus calls while the job runs (each counts the job's items live)
and checks that every message arrived once with replayIndicator true.

    python bench/bench_requeue.py                      # 100,000 on SQLite and PostgreSQL
    python bench/bench_requeue.py --messages 20000 --databases sqlite
    python bench/bench_requeue.py --append             # also append a section to bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from common import BENCH_DIR, REGS, SUP, database, free_port, postgres_available
from harness import OPENDIP, receiver, register_cast, server

from opendip.messages.client import Credentials, DipClient

HOOK, REQUEUE_HOOK = f"/hook/{SUP}", f"/requeue/{SUP}"
NO_DISTRIBUTOR = REGS  # the sender as distributor: no secondary copy (never to oneself)
SETTINGS = {"OPENDIP_DELIVERY_CLAIM_BATCH": "1000", "OPENDIP_LOG_LEVEL": "WARNING"}


@dataclass
class Outcome:
    kind: str
    messages: int
    send_seconds: float
    first_delivery_seconds: float
    answer_ms: float
    enqueue_seconds: float
    redeliver_seconds: float
    completed_seconds: float
    status_ms: list[float]
    arrived: int
    duplicates: int
    final: dict[str, Any]

    @property
    def per_second(self) -> float:
        return self.messages / self.completed_seconds


def wait(probe: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not probe():
        if time.time() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def stats(rx: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(rx + "/stats", timeout=10).json()
    return result


def bodies(first: int, count: int, per_request: int = 500) -> Iterator[bytes]:
    """IF-043 REGS -> SUP, each with its own MPAN (so no content duplicates) and an unregistered
    distributor (so SUP is the only recipient and the requeue is measured alone)."""
    from opendip.simulator.examples import connection_type_change, mpan_core

    for start in range(first, first + count, per_request):
        items = [
            {"payload": connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=NO_DISTRIBUTOR)}
            for n in range(start, min(start + per_request, first + count))
        ]
        yield orjson.dumps(items)


def send_all(base: str, credentials: Path, total: int, threads: int = 4) -> None:
    """Store `total` messages through the send API, 500 per request, from a few threads."""
    per_thread = -(-total // threads)

    def work(first: int) -> None:
        with DipClient(base, Credentials.load(credentials), timeout=120) as client:
            for body in bodies(first, min(per_thread, total - first)):
                response = client.request("POST", "/dip-channel/IF-043", body)
                if response.status_code != 201:
                    raise RuntimeError(f"send failed: {response.status_code} {response.text[:300]}")

    workers = [threading.Thread(target=work, args=(i * per_thread,)) for i in range(threads) if i * per_thread < total]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def run(kind: str, total: int, work: Path) -> Outcome:
    with database(kind, work, f"requeue_{kind}") as url, receiver(work) as rx:
        data_dir = work / f"data-{kind}"
        credentials = register_cast(data_dir, url, rx)
        sup = Credentials.load(credentials.parent / f"{SUP}.json")
        with requeue_hub(data_dir, url, work) as endpoint, DipClient(endpoint, sup) as client:
            hooked = client.set_webhook("IF-043", SUP, rx + HOOK, maxMessageCount=1000)
            assert hooked.status_code == 201, hooked.text
            started = time.time()
            send_all(endpoint, credentials, total)
            sent = time.time()
            wait(lambda: stats(rx)["delivered"].get(HOOK, 0) >= total, 900, "the first deliveries")
            delivered = time.time()

            hooked = client.set_webhook("IF-043", SUP, rx + REQUEUE_HOOK, maxMessageCount=1000)
            assert hooked.status_code == 201, hooked.text
            time.sleep(1.1)  # the workers' webhook cache lives one second
            asked = time.time()
            response = client.request("POST", f"/dip-channel/IF-043/requeue/{SUP}", b"{}")
            answered = time.time()
            assert response.status_code == 202, response.text
            requeue_id = response.json()
            status_ms: list[float] = []
            enqueued_at = redelivered_at = 0.0
            final: dict[str, Any] = {}
            while not final:
                before = time.time()
                status = client.request("GET", f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id={requeue_id}")
                status_ms.append((time.time() - before) * 1000)
                body = status.json()
                if not redelivered_at and stats(rx)["delivered"].get(REQUEUE_HOOK, 0) >= total:
                    redelivered_at = time.time()
                if not enqueued_at and body["totalTransactions"] == total and enqueued(url) >= total:
                    enqueued_at = time.time()
                if body["status"] != "Processing":
                    final = body
                elif time.time() - asked > 900:
                    raise RuntimeError(f"requeue still running after 900 s: {body}")
                time.sleep(0.25)
            completed = time.time()
            after = stats(rx)
            return Outcome(
                kind=kind,
                messages=total,
                send_seconds=sent - started,
                first_delivery_seconds=delivered - started,
                answer_ms=(answered - asked) * 1000,
                enqueue_seconds=(enqueued_at or completed) - asked,
                redeliver_seconds=(redelivered_at or completed) - asked,
                completed_seconds=completed - asked,
                status_ms=status_ms,
                arrived=int(after["delivered"].get(REQUEUE_HOOK, 0)),
                duplicates=int(after["duplicates"]),
                final=final,
            )


def enqueued(url: str) -> int:
    from sqlalchemy import text

    from opendip.db.engine import Database

    db = Database.from_url(url)
    try:
        with db.engine.connect() as conn:
            return int(conn.execute(text("SELECT COALESCE(MAX(enqueued), 0) FROM requeues")).scalar_one())
    finally:
        db.dispose()


@contextmanager
def requeue_hub(data_dir: Path, url: str, logs: Path) -> Iterator[str]:
    """`opendip up` (role all) with this benchmark's settings; yields its base URL."""
    port = free_port()
    env = {"OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": url, **SETTINGS}
    base = f"http://127.0.0.1:{port}"
    args = [OPENDIP, "up", "--role", "all", "--port", str(port)]
    with server(args, base + "/readyz", logs / f"hub-requeue-{port}.log", env):
        yield base


def report(outcomes: list[Outcome]) -> str:
    lines = [
        "",
        "## Requeue without limits (issue 6: `bench/bench_requeue.py`)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC."
        " One `POST /dip-channel/IF-043/requeue/{SUP}` with an empty filter re-delivers every stored message"
        " to the recipient's webhook (bench/receiver.py, maxMessageCount 1000, claim batch 1000)"
        " with `replayIndicator: true`; `opendip up` role all. The messages were first stored"
        " through the send API (500 per request, 4 client threads; each its own MPAN, SUP the only recipient)"
        " and delivered once.",
        "",
        "| DB | messages | send API (store) s | 202 answer ms | enqueue done s | last re-delivery s | Completed s "
        "| re-delivered msg/s | requeueStatus p50 / max ms | arrived once | duplicates | final status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.kind} | {o.messages:,} | {o.send_seconds:.1f} | {o.answer_ms:.0f} | {o.enqueue_seconds:.1f} | "
            f"{o.redeliver_seconds:.1f} | {o.completed_seconds:.1f} | {o.per_second:,.0f} | "
            f"{statistics.median(o.status_ms):.0f} / {max(o.status_ms):.0f} | {o.arrived:,} | {o.duplicates} | "
            f"{o.final['status']} ({o.final['processedTransactions']:,}/{o.final['totalTransactions']:,}) |"
        )
    lines += [
        "",
        "Times are from the requeue call. *Completed* is when requeueStatus first said so (polled every 0.25 s; the"
        " runner settles a job at most twice a second). The 202 includes counting the matches (the job's total is"
        " known from the first status call). requeueStatus counts the job's items live while it runs. Duplicates"
        " are re-deliveries of a transactionID the receiver already had on the requeue path: 0 means exactly once.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--append", action="store_true", help="append the section to bench/RESULTS.md")
    args = parser.parse_args()
    kinds = [k for k in args.databases.split(",") if k == "sqlite" or postgres_available()]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="opendip-requeue-") as tmp:
        for kind in kinds:
            outcome = run(kind, args.messages, Path(tmp))
            print(json.dumps({**outcome.__dict__, "status_ms": [round(x, 1) for x in outcome.status_ms[:5]]}))
            outcomes.append(outcome)
    text = report(outcomes)
    print(text)
    if args.append:
        with (BENCH_DIR / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
