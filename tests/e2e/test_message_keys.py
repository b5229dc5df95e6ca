"""The message key tables (migration 0022) over real sockets, on SQLite and PostgreSQL: every stored message has
its transaction ID with its day (`message_keys`) and its reference (`sender_references`), written in the
ingest transaction; a repeated reference is found there (MSG1006), also when sends of one reference race."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlalchemy import text

from opendip.errors import Msg
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast

RACERS = 8


def reference_of(payload: dict[str, Any]) -> str:
    return str(payload["CommonBlock"]["S1"]["senderUniqueReference"])


def ctc(n: int, reference: str | None = None) -> dict[str, Any]:
    payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)
    if reference is not None:
        payload["CommonBlock"]["S1"]["senderUniqueReference"] = reference
    return payload


def keys(cast: Cast) -> tuple[dict[str, int], dict[str, int], dict[tuple[str, str], str]]:
    """Stored messages' days (from received_at), message_keys' days, sender_references' transactions."""
    with cast.hub.db.engine.connect() as conn:
        days = {
            tx: int(at // 86400) for tx, at in conn.execute(text("SELECT transaction_id, received_at FROM messages"))
        }
        kept = {tx: int(day) for tx, day in conn.execute(text("SELECT transaction_id, received_day FROM message_keys"))}
        refs = conn.execute(
            text("SELECT sender_dip_id, sender_unique_reference, transaction_id FROM sender_references")
        )
        return days, kept, {(sender, ref): tx for sender, ref, tx in refs}


def test_each_stored_message_has_its_keys_written_with_it(cast: Cast) -> None:
    sent = [ctc(n) for n in range(5)]
    with cast.client(cast.regs) as client:
        response = client.send("IF-043", sent)
    assert response.status_code == 201, cast.hub.log_path.read_text()[-3000:]
    accepted = [item["transactionID"] for item in response.json()["messageArray"]]
    days, kept, refs = keys(cast)
    assert kept == days and set(days) == set(accepted)
    references = [p["CommonBlock"]["S1"]["senderUniqueReference"] for p in sent]
    assert refs == {(REGS, ref): tx for ref, tx in zip(references, accepted, strict=True)}


def test_a_reference_held_by_the_key_table_is_a_duplicate(cast: Cast) -> None:
    """MSG1006 is decided by sender_references, not by the messages table: a reference recorded there alone
    (no message row holds it) is already taken."""
    taken = ctc(1)
    with cast.hub.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sender_references (sender_dip_id, sender_unique_reference, transaction_id) "
                "VALUES (:sender, :reference, 'T-IF-043-X')"
            ),
            {"sender": REGS, "reference": reference_of(taken)},
        )
    with cast.client(cast.regs) as client:
        refused = client.send("IF-043", [taken])
        other = client.send("IF-043", [ctc(2)])
    assert refused.status_code == 400, refused.text
    item = refused.json()["messageArray"][0]
    assert item["message"].startswith(Msg.DUPLICATE_REFERENCE.spec.code) and reference_of(taken) in item["help"]
    assert other.status_code == 201, other.text
    days, kept, _ = keys(cast)
    assert set(days) == set(kept) == {other.json()["messageArray"][0]["transactionID"]}


def test_concurrent_sends_of_one_reference_store_exactly_one(cast: Cast) -> None:
    """Eight clients send one reference at once (different content, so neither the replay guard nor the content
    screen decides): exactly one is accepted, the others answered MSG1006, one message and one of each key."""
    start = threading.Barrier(RACERS)
    answers: list[httpx.Response] = []
    shared = reference_of(ctc(0))
    lock = threading.Lock()

    def send(n: int) -> None:
        with cast.client(cast.regs) as client:
            body = ctc(100 + n, shared)
            start.wait(timeout=60)
            response = client.send("IF-043", [body])
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == RACERS
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [400] * (RACERS - 1), [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 400):
        assert refused.json()["messageArray"][0]["message"].startswith(Msg.DUPLICATE_REFERENCE.spec.code)
    winner = next(a for a in answers if a.status_code == 201).json()["messageArray"][0]["transactionID"]
    days, kept, refs = keys(cast)
    assert set(days) == set(kept) == {winner}
    assert refs == {(REGS, shared): winner}
    assert cast.sup_receiver.wait_for(1) == [winner]
