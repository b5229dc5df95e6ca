"""The store-size bench's operations outside the portal: the worker's claim and release, replay and requeue
selection, tracking lookups, and one signed batch through the send path (bench/bench_scale.py measures them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import INTERFACE, MessageFactory
from seed_scale import INTERFACES, RECIPIENTS, SENDERS


def outbox_operations(url: str, anchor: float) -> dict[str, Callable[[], Any]]:
    from opendip.config import Settings
    from opendip.db.engine import Database
    from opendip.delivery.repository import DeliveryRepository
    from opendip.replay import repository as replay_repository
    from opendip.replay.filters import ReplayFilter
    from opendip.replay.service import ReplayService, Scope

    db = Database.from_url(url)
    outbox = DeliveryRepository(db)

    def claim() -> None:
        groups = outbox.due_groups(time.time())
        outbox.claim([(g, 50) for g in groups], "bench-scale", 60.0)
        outbox.release_all("bench-scale")

    def release_on_shutdown() -> int:
        """What a stopping worker pays to give back its leases (here: none left, the common case)."""
        return outbox.release_all("bench-scale-stopping")

    replay = ReplayService(db, Settings(database_url=url), b"bench-scale-token-key")
    hour = ReplayFilter(received_from=anchor - 3600, received_before=anchor)
    failed_day = ReplayFilter(received_from=anchor - 86400, states=("rejected", "exhausted", "unknown"))
    scope = Scope("channel", RECIPIENTS[0], ("IF-021", "IF-043"))

    def requeue_count() -> int:
        with db.engine.connect() as conn:
            upto = replay_repository.newest_id(conn, "channel")
            return replay_repository.count(conn, "channel", scope.query(failed_day), upto)

    return {
        "worker: due groups + claim 50 per group": claim,
        "worker: release its leases (shutdown)": release_on_shutdown,
        "replay: first page, one hour": lambda: replay.page(scope, hour, None),
        "requeue: count of a day's failures": requeue_count,
    }


def tracking_operations(url: str) -> dict[str, Callable[[], Any]]:
    """The tracking API's lookups (`/journal?...`, deliveryStatus) as `transaction_record` answers them, for a
    sender and for a recipient party. Message n = 50,000 is in every store (the newest 100,000 are the last
    day at every size); its MPAN recurs every 5,000,000 messages. Not by senderUniqueReference: a seeded one
    (SEED-n) lacks the DIP ID a real one carries (S-IF-043-1009012345-REGS-...), on which the lookup keys the
    (sender, reference) index; it would read the whole index, which no real reference does."""
    from opendip.db.engine import Database
    from opendip.status.tracking import transaction_record

    db = Database.from_url(url)
    n = 50_000
    sender, recipient = SENDERS[n % len(SENDERS)], RECIPIENTS[(n * 7) % 10]
    interface = INTERFACES[(n // len(SENDERS)) % len(INTERFACES)]
    transaction = f"T-{interface}-{sender}-SUP-SEED-{n}"
    mpan = str(2000000000000 + (n * 7919) % 5000000)

    def lookup(kind: str, value: str, party: str) -> Callable[[], Any]:
        def run() -> None:
            records, _ = transaction_record(db, kind, value, {party}, 0, 100)
            assert records and records[0]["accepted"], (kind, value, party)

        return run

    return {
        "tracking: deliveryStatus by transactionID (recipient)": lookup("transactionID", transaction, recipient),
        "tracking: by MPAN (sender)": lookup("MPAN", mpan, sender),
        "tracking: by MPAN (recipient)": lookup("MPAN", mpan, recipient),
        "tracking: by correlationID (recipient)": lookup("correlationID", f"COR-{n // 10}", recipient),
    }


def ingest_operation(url: str, data_dir: Path, credentials: Path) -> tuple[Callable[[], Any], Callable[[], None]]:
    from starlette.testclient import TestClient

    from opendip.app import create_app
    from opendip.config import Settings
    from opendip.messages.client import Credentials

    creds = Credentials.load(credentials)
    signer = creds.signer()
    factory = MessageFactory()
    target = f"http://testserver/dip-channel/{INTERFACE}"
    client = TestClient(
        create_app(Settings(data_dir=data_dir, database_url=url, backpressure_max_pending=0), role="api"),
        base_url="http://testserver",
    )
    client.__enter__()

    def send() -> None:
        body = factory.body(50)
        headers = signer.headers("POST", target, body)
        headers.update({"X-API-Key": creds.api_key, "Content-Type": "application/json"})
        answer = client.post(f"/dip-channel/{INTERFACE}", content=body, headers=headers)
        assert answer.status_code == 201, answer.text[:300]

    return send, lambda: client.__exit__(None, None, None)
