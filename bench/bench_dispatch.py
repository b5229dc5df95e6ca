"""The delivery path alone, in one process: CPU and wall time per message from outbox row to the recipient's 201.

`make bench` measures delivery end to end with the send API in the same
process; on a busy machine the ingest side and the neighbours move its
figures. This seeds N accepted messages straight into the store (outbox rows
due now, alternately for SUP and LDSO, whose webhooks point at
bench/receiver.py in its own process) and runs the hub's delivery workers as a
worker process does (messages and L4 statuses; the L4 side has nothing to do
but look) on uvloop, the hub's loop (`--loop asyncio` for the standard one), until
the receiver has every message. The figure is the process's own CPU time (all
threads, less the bench's own watching of the receiver) per delivered message,
and the wall time of the drain. It adapts
to the tree it imports, so it runs against a baseline too, in turn, under the
same conditions:

    cd bench && python bench_dispatch.py --messages 20000 [--database postgresql]
    cd bench && PYTHONPATH=/path/to/baseline/src python bench_dispatch.py --messages 20000
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import structlog
import uvloop
from common import LDSO, SUP, MessageFactory, database
from harness import receiver, register_cast


def seed(url: str, count: int) -> None:
    """`count` accepted IF-043 messages, each with one outbox row due now, alternately for SUP and LDSO."""
    from opendip.db.engine import Database
    from opendip.db.models import deliveries, messages

    factory, now = MessageFactory(), time.time()
    db = Database.from_url(url)
    try:
        for start in range(0, count, 1000):
            message_rows, delivery_rows = [], []
            for n in range(start, min(count, start + 1000)):
                tx = f"T-IF-043-1009012345-REGS-20261125-{n:010d}"
                body = orjson.loads(factory.item())["payload"]
                message_rows.append(
                    {
                        "transaction_id": tx,
                        "interface_id": "IF-043",
                        "event_code": "[ConnectionTypeChange]",
                        "schema_version": "011",
                        "sender_dip_id": "1009012345",
                        "sender_role": "REGS",
                        "sender_unique_reference": body["CommonBlock"]["S1"]["senderUniqueReference"],
                        "correlation_id": f"CI-20261125-{n:022d}",
                        "connection_provider_id": None,
                        "mpan": body["CommonBlock"]["M0"]["MPANCore"],
                        "environment_tag": "DEV",
                        "content_hash": f"{n:064x}",
                        "received_at": now,
                        "payload": orjson.dumps(body),
                    }
                )
                delivery_rows.append(
                    {
                        "transaction_id": tx,
                        "recipient_dip_id": SUP if n % 2 == 0 else LDSO,
                        "interface_id": "IF-043",
                        "recipient_kind": "primary",
                        "publication_id": "PUB-001",
                        "replay": False,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            with db.begin() as conn:
                conn.execute(messages.insert(), message_rows)
                conn.execute(deliveries.insert(), delivery_rows)
    finally:
        db.dispose()


def workers(db: Any, settings: Any) -> list[Any]:
    """The delivery workers a hub worker process runs, as the imported tree builds them."""
    from opendip.delivery import DeliveryWorker
    from opendip.pki.authority import ensure_hub_identity
    from opendip.pki.signing import Signer

    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    signer = Signer.from_files(cert, key)
    if "kinds" in inspect.signature(DeliveryWorker).parameters:  # one dispatcher for both kinds
        from opendip.delivery import MessageKind
        from opendip.status.outbox import StatusKind

        return [DeliveryWorker(db, settings, signer, kinds=[MessageKind(db, settings), StatusKind(db)])]
    from opendip.status.outbox import StatusDeliveryWorker  # type: ignore[attr-defined]

    return [DeliveryWorker(db, settings, signer), StatusDeliveryWorker(db, settings, signer)]


async def drain(url: str, data_dir: Path, count: int, sink: str) -> dict[str, float]:
    """Run the workers until the receiver has `count` messages; the CPU of that watching is not counted.

    The bench watches the receiver, not the store: a count of pending rows is O(backlog) and, on
    SQLite, takes the write lock the workers need. Its CPU (the loop thread's, measured around each
    look) is subtracted from the process's.
    """
    from opendip.config import Settings
    from opendip.db.engine import Database

    settings = Settings(data_dir=data_dir, database_url=url)
    db = Database.from_url(url)
    running = workers(db, settings)
    watching = 0.0
    try:
        with httpx.Client(base_url=sink, timeout=10) as client:
            wall, cpu = time.perf_counter(), time.process_time()
            for worker in running:
                await worker.start()
            while True:
                looked = time.thread_time()
                done = sum(client.get("/stats").json()["delivered"].values()) >= count
                watching += time.thread_time() - looked
                if done:
                    break
                await asyncio.sleep(0.05)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu - watching
    finally:
        for worker in running:
            await worker.stop()
        db.dispose()
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "watch_cpu_s": round(watching, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--loop", choices=("asyncio", "uvloop"), default="uvloop", help="the event loop (the hub's: uvloop)"
    )
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    import opendip

    with tempfile.TemporaryDirectory(prefix="opendip-dispatch-") as tmp:
        base = Path(tmp)
        with receiver(base) as sink, database(args.database, base, "dispatch") as url:
            register_cast(base / "data", url, sink)
            seed(url, args.messages)
            run = uvloop.run if args.loop == "uvloop" else asyncio.run
            figures = run(drain(url, base / "data", args.messages, sink))
            stats = httpx.get(sink + "/stats").json()
    delivered = sum(stats["delivered"].values())
    print(
        json.dumps(
            {
                "tree": str(Path(opendip.__file__).parent.parent),
                "database": args.database,
                "loop": args.loop,
                "messages": args.messages,
                "delivered": delivered,
                "duplicates": stats["duplicates"],
                "posts": stats["posts"],
                **figures,
                "cpu_us_per_msg": round(figures["cpu_s"] / max(1, delivered) * 1e6, 1),
                "msg_per_s": round(delivered / figures["wall_s"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
