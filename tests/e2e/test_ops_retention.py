"""Retention end to end: old messages archived then purged (never an undelivered one), replay over the purged
range answered MSG4080 naming the archive, archives listed, verified and read back, status on /metrics and the
portal; the audit log purged only below its floor."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from opendip.messages.client import DipClient
from tests.e2e.conftest import SUP, Cast
from tests.helpers.hub import HubProcess
from tests.ops.support import make_cast, opendip, opendip_json, outbox_problems, send_batch, wait_until

DAY = 86400.0


@pytest.fixture
def fast_cast(hub: HubProcess, receiver_factory) -> Cast:  # type: ignore[no-untyped-def]
    return make_cast(hub, receiver_factory, {"OPENDIP_HEALTH_PROBE_SECONDS": "0.2"})


def dip_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def replay(client: DipClient, since: float) -> httpx.Response:
    body = orjson.dumps({"datetimeFrom": dip_time(since)})
    return client.request("POST", f"/dip-channel/IF-043/replay/{SUP}", body)


def age(hub: HubProcess, transactions: list[str], days: float) -> None:
    """Seed the past: these messages (and their journal) were received `days` ago."""
    shift = days * DAY
    with hub.db.engine.begin() as conn:
        for table, column in (("messages", "received_at"), ("journal", "at")):
            conn.execute(
                text(f"UPDATE {table} SET {column} = {column} - :shift WHERE transaction_id = :tx"),
                [{"shift": shift, "tx": tx} for tx in transactions],
            )


def stored(hub: HubProcess, transactions: list[str]) -> set[str]:
    """The messages stored, once it is seen that their keys (migration 0022) are stored with them, no more."""
    with hub.db.engine.connect() as conn:
        rows = set(conn.execute(text("SELECT transaction_id FROM messages")).scalars())
        for table in ("message_keys", "sender_references"):
            assert set(conn.execute(text(f"SELECT transaction_id FROM {table}")).scalars()) == rows, table
        return rows & set(transactions)


def metric(base_url: str, line_start: str) -> float | None:
    for line in httpx.get(base_url + "/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_messages_archived_then_purged_replay_names_the_archive_and_it_reads_back(fast_cast: Cast) -> None:
    cast, hub = fast_cast, fast_cast.hub
    with cast.client(cast.regs) as client:
        accepted = [tx for batch in range(3) for tx in send_batch(client, batch * 5, 5)]
    cast.sup_receiver.wait_for(len(accepted))
    cast.ldso_receiver.wait_for(len(accepted))
    wait_until(lambda: outbox_problems(hub)["undelivered"] == 0, 60, "every outcome recorded")
    old, undelivered, young = accepted[:9], accepted[9], accepted[10:]
    age(hub, [*old, undelivered], 40)
    with hub.db.engine.begin() as conn:  # one old message still owed to LDSO: it must stay
        conn.execute(
            text("UPDATE deliveries SET state = 'pending', next_attempt_at = :later WHERE transaction_id = :tx"),
            {"later": time.time() + DAY, "tx": undelivered},
        )

    runs = {r["kind"]: r for r in opendip_json(hub, "retention", "run", "--days", "30", "--kind", "messages")}
    assert runs["messages"]["purged"] == len(old) and runs["messages"]["held"] == 1
    assert stored(hub, accepted) == {undelivered, *young}
    archive = runs["messages"]["archives"][0]
    listed = opendip_json(hub, "retention", "archives", "--kind", "messages")
    assert [(a["file"], a["rows"], a["status"]) for a in listed] == [(archive, len(old), "purged")]
    assert opendip_json(hub, "retention", "verify", archive)["ok"] is True
    path = hub.settings.effective_archive_dir / archive
    with gzip.open(path) as handle:  # JSON Lines: one message per line with its deliveries
        lines = [orjson.loads(line) for line in handle]
    assert sorted(line["messages"][0]["transaction_id"] for line in lines) == sorted(old)
    assert all(len(line["deliveries"]) == 2 for line in lines)

    with cast.client(cast.sup) as sup:
        refused = replay(sup, time.time() - 45 * DAY)
        assert refused.status_code == 410, refused.text
        answer = refused.json()["messageArray"][0]
        assert answer["message"].startswith("MSG4080") and archive in answer["help"]
        requeue = sup.request(
            "POST",
            f"/dip-channel/IF-043/requeue/{SUP}",
            orjson.dumps({"datetimeFrom": dip_time(time.time() - 45 * DAY)}),
        )
        assert requeue.status_code == 410 and archive in requeue.text
        recent = replay(sup, time.time() - DAY)
        assert recent.status_code == 200 and len(recent.json()) == len(young)

    wait_until(lambda: metric(hub.base_url, 'opendip_retention_purged_rows{kind="messages"}') == len(old), 60, "metric")
    oldest = metric(hub.base_url, "opendip_retention_oldest_message_timestamp_seconds")
    assert oldest is not None and oldest < time.time() - 39 * DAY  # the held message is the oldest stored
    page = httpx.get(hub.base_url + "/portal/retention").text
    assert archive in page and "Oldest stored message" in page
    since = datetime.fromtimestamp(time.time() - 45 * DAY, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    searched = httpx.get(hub.base_url + "/portal/messages.json", params={"from": since})  # the portal's search
    assert searched.status_code == 410 and "MSG4080" in searched.text and archive in searched.text

    restored = opendip_json(hub, "retention", "restore-archive", archive)
    assert restored["inserted"]["messages"] == len(old) and restored["inserted"]["deliveries"] == 2 * len(old)
    assert stored(hub, accepted) == set(accepted)
    with cast.client(cast.sup) as sup:
        back = replay(sup, time.time() - 45 * DAY)
        assert back.status_code == 200, back.text
        assert {item["payload"]["CommonBlock"]["D0"]["transactionID"] for item in back.json()} >= set(old)

    with path.open("r+b") as handle:  # one byte changed: the checksum no longer matches
        handle.seek(20)
        byte = handle.read(1)
        handle.seek(20)
        handle.write(bytes([byte[0] ^ 0xFF]))
    broken = opendip(hub, "retention", "verify", archive, check=False)
    assert broken.returncode == 1 and "checksum" in broken.stdout


def test_journal_kept_while_its_message_is_stored_and_audit_purged_only_below_its_floor(cast: Cast) -> None:
    hub = cast.hub
    with cast.client(cast.regs) as client:
        accepted = send_batch(client, 100, 4)
    cast.sup_receiver.wait_for(len(accepted))
    cast.ldso_receiver.wait_for(len(accepted))
    age(hub, accepted, 40)
    with hub.db.engine.begin() as conn:  # a message gone earlier: only its journal is left
        conn.execute(text("DELETE FROM deliveries WHERE transaction_id = :tx"), {"tx": accepted[0]})
        conn.execute(text("DELETE FROM messages WHERE transaction_id = :tx"), {"tx": accepted[0]})

    runs = {r["kind"]: r for r in opendip_json(hub, "retention", "run", "--days", "30", "--kind", "journal")}
    assert runs["journal"]["purged"] >= 2 and runs["journal"]["held"] >= 3 * 2
    with hub.db.engine.connect() as conn:  # entries journalled after the seeding (the Delivered ones) are young
        query = text("SELECT DISTINCT transaction_id FROM journal WHERE at < :cutoff")
        left = conn.execute(query, {"cutoff": time.time() - 30 * DAY}).scalars().all()
    assert accepted[0] not in left and set(accepted[1:]) <= set(left)

    with hub.db.engine.connect() as conn:
        audit_rows = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert audit_rows > 0, "registering the cast was audited"
    time.sleep(0.01)  # let a hundredth of a second pass, so the rows are older than the one-millisecond period
    audit: dict[str, Any] = opendip_json(hub, "retention", "run", "--days", "0.00000001", "--kind", "audit")[0]
    assert audit["purged"] == audit["archived"] >= audit_rows
    with hub.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target, outcome, source, detail) "
                "VALUES (:at, 'test', 'probe', 'x', 'ok', 'test', '')"
            ),
            {"at": time.time() + DAY},
        )
    with pytest.raises(Exception, match="append-only"), hub.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))


def test_a_run_with_nothing_old_writes_no_archive(cast: Cast) -> None:
    runs = opendip_json(cast.hub, "retention", "run", "--days", "30")
    assert all(r["purged"] == 0 and r["archives"] == [] and r["dropped"] == [] for r in runs)
    assert not list(cast.hub.settings.effective_archive_dir.glob("*.jsonl.gz"))
    if cast.hub.db.engine.dialect.name == "postgresql":  # the journal by day: the hub keeps the next 7 days made
        gauge = "opendip_journal_partition_days_ahead"
        wait_until(lambda: metric(cast.hub.base_url, gauge) == 7, 60, "journal partitions ahead on /metrics")
