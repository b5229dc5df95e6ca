"""Content duplicates: the same interface, MPAN and CustomBlock under a new reference is flagged or refused."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from opendip.errors import Msg
from opendip.simulator.examples import unique_reference
from tests.e2e.conftest import Cast
from tests.helpers.hub import HubProcess
from tests.status.support import LDSO, REGS, SUP, ctc, get, segment_change

POLICY = """
duplicates:
  window_seconds: 3600
  default: flag
  interfaces: {IF-044: reject}
"""


def again(payload: dict) -> dict:  # type: ignore[type-arg]
    """The same content under a new senderUniqueReference, as a resending system would produce."""
    copied = copy.deepcopy(payload)
    s1 = copied["CommonBlock"]["S1"]
    s1["senderUniqueReference"] = unique_reference(
        copied["CommonBlock"]["S0"]["interfaceID"], REGS, "REGS", datetime.now(UTC)
    )
    return copied


@pytest.fixture
def policy_cast(hub: HubProcess, receiver_factory, tmp_path: Path) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    policy = tmp_path / "status-policy.yaml"
    policy.write_text(POLICY)
    hub.env["OPENDIP_STATUS_POLICY_FILE"] = str(policy)
    sup_receiver, ldso_receiver = receiver_factory(), receiver_factory()
    regs = hub.add(REGS, "REGS")
    sup = hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
    ldso = hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
    hub.start()
    yield Cast(hub, regs, sup, ldso, sup_receiver, ldso_receiver)


def test_duplicates_are_flagged_or_rejected_per_interface_and_counted_per_sender_per_day(policy_cast: Cast) -> None:
    cast = policy_cast
    first = ctc(1)
    with cast.client(cast.regs) as regs:
        original = regs.send("IF-043", [first]).json()["messageArray"][0]
        flagged = regs.send("IF-043", [again(first)])
        assert flagged.status_code == 201, flagged.text
        item = flagged.json()["messageArray"][0]
        assert item["message"] == "MSG0000 - Success"
        assert "flagged" in item["help"] and original["transactionID"] in item["help"]

        # In one batch: the second copy repeats the first; a different MPAN is different content.
        second = ctc(2)
        other_mpan = copy.deepcopy(second)
        other_mpan["CommonBlock"]["M0"]["MPANCore"] = ctc(3)["CommonBlock"]["M0"]["MPANCore"]
        other_mpan = again(other_mpan)
        batch = regs.send("IF-043", [second, again(second), other_mpan]).json()["messageArray"]
        assert [("flagged" in i["help"]) for i in batch] == [False, True, False]

        # IF-044 is set to reject: MSG4009 (Duplicate Content), nothing stored, nothing delivered.
        segment = segment_change(4)
        kept = regs.send("IF-044", [segment])
        assert kept.status_code == 201, kept.text
        refused = regs.send("IF-044", [again(segment)])
        assert refused.status_code == 400, refused.text
        answer = refused.json()["messageArray"][0]
        assert answer["message"] == Msg.DUPLICATE_CONTENT.spec.message
        assert kept.json()["messageArray"][0]["transactionID"] in answer["help"]

        # Accept-and-flag still delivers (recipients de-duplicate by transactionID); the rejected one never goes.
        delivered = cast.sup_receiver.wait_for(6)
        assert answer["transactionID"] not in delivered
        assert item["transactionID"] in delivered
        with cast.hub.db.engine.connect() as conn:
            query = text("SELECT COUNT(*) FROM messages WHERE transaction_id = :tx")
            stored = conn.execute(query, {"tx": answer["transactionID"]}).scalar()
        assert stored == 0

        record = get(regs, f"/journal?transactionID={item['transactionID']}").json()["transactions"][0]
        assert record["duplicateOf"] == original["transactionID"]
        flags = [e for e in record["journal"] if e["status"] == "DuplicateContent"]
        assert len(flags) == 1 and original["transactionID"] in flags[0]["reason"]
        rejected = get(regs, f"/journal?transactionID={answer['transactionID']}").json()["transactions"][0]
        assert rejected["accepted"] is False
        assert [e["status"] for e in rejected["journal"]] == ["InboundRuleFailure"]

        today = datetime.now(UTC).strftime("%Y-%m-%d")
        report = get(regs, f"/statusmessage/duplicates/{REGS}?from={today}&to={today}").json()
        assert report["days"] == [
            {"day": today, "interfaceID": "IF-043", "flagged": 2, "rejected": 0},
            {"day": today, "interfaceID": "IF-044", "flagged": 0, "rejected": 1},
        ]
        assert get(regs, f"/statusmessage/duplicates/{REGS}?from=yesterday").status_code == 400
    with cast.client(cast.sup) as sup:
        assert get(sup, f"/statusmessage/duplicates/{REGS}").status_code == 403
