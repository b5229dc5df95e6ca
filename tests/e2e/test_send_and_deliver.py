"""End to end: a signed message in, signed deliveries out, over real sockets, on SQLite and PostgreSQL."""

from __future__ import annotations

import orjson

from opendip.errors import Msg
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast


def ctc(n: int = 1) -> dict:  # type: ignore[type-arg]
    return connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)


def test_message_is_accepted_stored_and_delivered_signed(cast: Cast) -> None:
    with cast.client(cast.regs) as client:
        response = client.send("IF-043", [ctc()])
    assert response.status_code == 201, response.text
    body = response.json()
    item = body["messageArray"][0]
    assert item["message"] == "MSG0000 - Success"
    assert item["transactionID"].startswith(f"T-IF-043-{REGS}-REGS-")
    assert len(item["transactionID"]) <= 65
    assert len(body["timestamp"]) == 25

    assert cast.sup_receiver.wait_for(1) == [item["transactionID"]]
    delivery = cast.sup_receiver.received[0]
    assert delivery.verified, delivery.verify_error
    for header in (
        "X-DIP-Signature",
        "X-DIP-Signature-Date",
        "X-DIP-Content-Hash",
        "X-DIP-Signature-Certificate",
    ):
        assert header in delivery.headers
    payload = delivery.messages[0]["payload"]
    d0 = payload["CommonBlock"]["D0"]
    assert d0["transactionID"] == item["transactionID"]
    assert d0["replayIndicator"] is False
    assert d0["publicationID"] == "PUB-001"
    assert len(d0["transactionTimestamp"]) == 25
    assert d0["initialCorrelationID"] == item["correlationID"]
    assert payload["CustomBlock"]["B023"]["connectionTypeIndicator"] == "L"


def test_batch_with_one_bad_message_is_refused_whole(cast: Cast) -> None:
    """As the live DIP: a batch is validated as one, 201 or 400 (per-message 207: test_batch_acceptance.py)."""
    bad = ctc(2)
    bad["CustomBlock"]["B023"]["connectionTypeIndicator"] = "Q"
    with cast.client(cast.regs) as client:
        response = client.send("IF-043", [ctc(1), bad])
    assert response.status_code == 400, response.text
    first, second = response.json()["messageArray"]
    assert first["message"] == Msg.BATCH_NOT_PROCESSED.spec.message
    assert second["message"].startswith(Msg.SCHEMA_FAILURE.spec.code)
    assert "connectionTypeIndicator" in second["help"]
    with cast.hub.db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM messages").scalar() == 0


def test_duplicate_reference_is_rejected_and_stores_nothing_new(cast: Cast) -> None:
    message = ctc()
    with cast.client(cast.regs) as client:
        assert client.send("IF-043", [message]).status_code == 201
        again = client.send("IF-043", [message])
    assert again.status_code == 400, again.text
    assert again.json()["messageArray"][0]["message"].startswith(Msg.DUPLICATE_REFERENCE.spec.code)
    cast.sup_receiver.wait_for(1)
    with cast.hub.db.engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT COUNT(*) FROM messages").scalar()
    assert count == 1


def test_many_messages_in_batches_all_arrive_once(cast: Cast) -> None:
    with cast.client(cast.regs) as client:
        accepted = []
        for batch in range(4):
            response = client.send("IF-043", [ctc(batch * 50 + i) for i in range(50)])
            assert response.status_code == 201
            accepted += [i["transactionID"] for i in response.json()["messageArray"]]
    delivered = cast.sup_receiver.wait_for(200)
    assert sorted(set(delivered)) == sorted(accepted)


def test_pubconfig_routes_a_channel_to_its_own_webhook(cast: Cast, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    special = receiver_factory()
    with cast.client(cast.sup) as client:
        response = client.set_webhook("IF-043", SUP, special.url("/if043"), maxMessageCount=10)
    assert response.status_code == 201, response.text
    with cast.client(cast.regs) as client:
        tx = client.send("IF-043", [ctc()]).json()["messageArray"][0]["transactionID"]
    assert special.wait_for(1) == [tx]
    with cast.client(cast.regs) as client:
        other = client.set_webhook("IF-043", SUP, special.url("/stolen"))
    assert other.status_code == 403
    assert orjson.loads(other.content)["messageArray"][0]["message"].startswith(Msg.NOT_OWN_RESOURCE.spec.code)
