"""Replay end to end: pages with X-Continuation-Token while messages keep arriving, filters, permissions."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from opendip.errors import Msg
from tests.e2e.conftest import Cast
from tests.helpers.hub import HubProcess
from tests.status.support import LDSO, REGS, SUP, ctc, post_json, send, start_cast

PAGE = 25


@pytest.fixture
def paged_cast(hub: HubProcess, receiver_factory) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    yield start_cast(hub, receiver_factory, replay_page_size=str(PAGE))


def replay_all(
    client: Any, recipient: str, body: dict[str, Any], answered: list[float] | None = None
) -> tuple[list[dict[str, Any]], list[int]]:
    """Follow X-Continuation-Token to the end; the items and the status of every page."""
    items: list[dict[str, Any]] = []
    statuses: list[int] = []
    headers: dict[str, str] = {}
    while True:
        response = post_json(client, f"/dip-channel/IF-043/replay/{recipient}", body, headers)
        assert response.status_code in (200, 206), response.text
        if answered is not None:
            answered.append(time.time())
        statuses.append(response.status_code)
        items += orjson.loads(response.content)
        token = response.headers.get("X-Continuation-Token")
        assert (token is not None) == (response.status_code == 206)
        if token is None:
            return items, statuses
        headers = {"X-Continuation-Token": token}


def tx_of(item: dict[str, Any]) -> str:
    return str(item["payload"]["CommonBlock"]["D0"]["transactionID"])


def test_replay_pages_stay_stable_while_sending_continues_and_filter_to_the_second(paged_cast: Cast) -> None:
    cast = paged_cast
    with cast.client(cast.regs) as regs:
        before = [tx for batch in range(4) for tx in send(regs, [ctc(batch * 30 + i) for i in range(30)])]
    cast.sup_receiver.wait_for(len(before))

    stop = threading.Event()
    during: list[tuple[float, float, list[str]]] = []

    def keep_sending() -> None:
        with cast.client(cast.regs) as client:
            n = 1000
            while not stop.is_set():
                started = time.time()
                txs = send(client, [ctc(n + i) for i in range(5)])
                during.append((started, time.time(), txs))
                n += 5

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        while len(during) < 2:  # sending is under way before the replay begins
            time.sleep(0.01)
        replay_started = time.time()
        answered: list[float] = []
        with cast.client(cast.sup) as sup:
            items, statuses = replay_all(sup, SUP, {}, answered)
    finally:
        stop.set()
        sender.join()

    got = [tx_of(i) for i in items]
    assert len(got) == len(set(got)), "a message came twice across pages"
    accepted_before = set(before) | {tx for _, done, txs in during if done < replay_started for tx in txs}
    # The snapshot is fixed by the first page: what was sent after it was answered is not part of it.
    started_after = {tx for begun, _, txs in during if begun > answered[0] for tx in txs}
    assert started_after, "sending must go on while the pages are read"
    assert accepted_before <= set(got), "a message stored before the replay began is missing"
    assert not set(got) & started_after, "a message sent after the replay began joined it"
    assert statuses[-1] == 200 and set(statuses[:-1]) == {206} and len(statuses) >= len(got) // PAGE
    with cast.hub.db.engine.connect() as conn:
        order = [
            r[0]
            for r in conn.exec_driver_sql(
                f"SELECT transaction_id FROM deliveries WHERE recipient_dip_id = '{SUP}' AND replay = false ORDER BY id"
            )
        ]
    assert got == [tx for tx in order if tx in set(got)], "pages are not in the stable (outbox) order"

    # Each item is the egress message exactly as delivered, D0 included.
    delivered = {tx_of(m): m for r in cast.sup_receiver.received for m in r.messages}
    for item in items:
        assert item == delivered[tx_of(item)]
        assert item["payload"]["CommonBlock"]["D0"]["replayIndicator"] is False

    # Filters, on everything sent (before and during): to the second, by MPANs, by IDs.
    sent = [tx for tx in order if tx in set(before) | {tx for _, _, txs in during for tx in txs}]
    cast.sup_receiver.wait_for(len(sent))
    delivered = {tx_of(m): m["payload"] for r in cast.sup_receiver.received for m in r.messages}
    with cast.client(cast.sup) as sup, cast.client(cast.ldso) as ldso, cast.client(cast.regs) as regs:
        everything, _ = replay_all(sup, SUP, {})
        assert [tx_of(i) for i in everything] == sent

        second = delivered[sent[30]]["CommonBlock"]["D0"]["transactionTimestamp"]
        in_second = [tx for tx in sent if delivered[tx]["CommonBlock"]["D0"]["transactionTimestamp"] == second]
        window, _ = replay_all(sup, SUP, {"datetimeFrom": second, "datetimeTo": second})
        assert [tx_of(i) for i in window] == in_second

        mpans = [delivered[sent[i]]["CommonBlock"]["M0"]["MPANCore"] for i in (3, 17, 44)]
        by_mpan, _ = replay_all(sup, SUP, {"MPANs": mpans[:2], "MPAN": mpans[2]})
        assert [tx_of(i) for i in by_mpan] == [sent[3], sent[17], sent[44]]
        by_id, _ = replay_all(sup, SUP, {"transactionIDs": [sent[59], sent[0]], "eventCode": "ConnectionTypeChange"})
        assert [tx_of(i) for i in by_id] == [sent[0], sent[59]]
        none, _ = replay_all(sup, SUP, {"version": "099"})
        assert none == []

        first = post_json(sup, f"/dip-channel/IF-043/replay/{SUP}", {})
        token = first.headers["X-Continuation-Token"]
        mixed = post_json(sup, f"/dip-channel/IF-043/replay/{SUP}", {"MPAN": mpans[0]}, {"X-Continuation-Token": token})
        assert mixed.status_code == 400 and mixed.json()["messageArray"][0]["message"].startswith(
            Msg.INVALID_CONTINUATION_TOKEN.spec.code
        )
        payload, signature = token.split(".")
        cursor = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        stretched = base64.urlsafe_b64encode(orjson.dumps({**cursor, "u": cursor["u"] + 10**6})).decode().rstrip("=")
        for forged in ("not-a-token", f"{stretched}.{signature}", stretched, token[:-2], "9" * 3000):
            junk = post_json(sup, f"/dip-channel/IF-043/replay/{SUP}", {}, {"X-Continuation-Token": forged})
            assert junk.status_code == 400 and junk.json()["messageArray"][0]["message"].startswith(
                Msg.INVALID_CONTINUATION_TOKEN.spec.code
            ), (forged[:40], junk.text)

        bad = post_json(sup, f"/dip-channel/IF-043/replay/{SUP}", {"datetimeFrom": "2026-11-25 09:00"})
        assert bad.status_code == 400 and "$.datetimeFrom" in bad.json()["messageArray"][0]["help"]
        unknown = post_json(sup, f"/dip-channel/IF-043/replay/{SUP}", {"colour": "red"})
        assert unknown.status_code == 400 and "$.colour" in unknown.json()["messageArray"][0]["help"]
        channel = post_json(sup, f"/dip-channel/IF-999/replay/{SUP}", {})
        assert channel.status_code == 404 and channel.json()["messageArray"][0]["message"].startswith(
            Msg.UNKNOWN_CHANNEL.spec.code
        )

        # A recipient replays only its own messages; nobody replays or requeues for another.
        for path in (f"/dip-channel/IF-043/replay/{SUP}", f"/dip-channel/IF-043/requeue/{SUP}"):
            refused = post_json(ldso, path, {})
            assert refused.status_code == 403 and refused.json()["messageArray"][0]["message"].startswith(
                Msg.NOT_OWN_RESOURCE.spec.code
            )
        assert ldso.request("GET", f"/dip-channel/IF-043/requeueStatus/{SUP}").status_code == 403
        own, _ = replay_all(ldso, LDSO, {})
        assert sorted(tx_of(i) for i in own) == sorted(sent)  # LDSO is a secondary recipient of every IF-043
        assert all(i["payload"]["CommonBlock"]["D0"]["publicationID"] != "PUB-001" for i in own)
        assert replay_all(regs, REGS, {})[0] == []  # the sender was sent nothing on IF-043
