"""L4 status messages end to end: a recipient reports, the hub passes it on to the sender's status webhook."""

from __future__ import annotations

from opendip.errors import Msg
from tests.e2e.conftest import SUP2 as OUTSIDER
from tests.e2e.conftest import Cast
from tests.status.support import REGS, SUP, accept_statuses, ctc, get, post_json, send, status_items, wait_for


def test_l4_round_trip_with_refusals_pause_and_signed_delivery(cast: Cast, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    outsider = cast.hub.add(OUTSIDER, "SUP")
    with cast.client(cast.regs) as regs, cast.client(cast.sup) as sup, cast.client(outsider) as other:
        tx = send(regs, [ctc(1)])[0]
        cast.sup_receiver.wait_for(1)

        # The recipient reports; bad items are refused one by one, as a send with one bad message is.
        report = {
            "messageArray": [
                {"transactionID": tx, "message": "MSG0000 - Success", "help": "applied"},
                {"transactionID": "T-IF-043-1009012345-REGS-20260101-NOSUCH", "message": "MSG0000 - Success"},
                {"transactionID": tx, "message": "MSG0000 - Success", "colour": "red"},
                {"transactionID": tx, "message": "all good"},
            ],
            "timestamp": "2026-11-25T09:30:00+00:00",
        }
        answer = post_json(sup, "/statusmessage", report)
        assert answer.status_code == 207, answer.text
        ok, unknown, extra, no_code = answer.json()["messageArray"]
        assert ok["message"] == "MSG0000 - Success" and ok["transactionID"] == tx
        assert unknown["message"].startswith(Msg.UNKNOWN_TRANSACTION.spec.code)
        assert extra["message"].startswith(Msg.SCHEMA_FAILURE.spec.code) and "$.messageArray[2].colour" in extra["help"]
        assert (
            no_code["message"].startswith(Msg.SCHEMA_FAILURE.spec.code)
            and "$.messageArray[3].message" in no_code["help"]
        )

        # Someone the hub never sent it to may not report on it, nor pose as the recipient.
        stolen = post_json(other, "/statusmessage", [{"transactionID": tx, "message": "MSG0000 - Success"}])
        assert stolen.status_code == 400, stolen.text
        assert stolen.json()["messageArray"][0]["message"].startswith(Msg.UNKNOWN_TRANSACTION.spec.code)
        posing = post_json(other, "/statusmessage", [{"transactionID": tx, "message": "MSG0000", "recipientID": SUP}])
        assert posing.status_code == 403, posing.text
        assert posing.json()["messageArray"][0]["message"].startswith(Msg.NOT_OWN_RESOURCE.spec.code)
        assert post_json(other, f"/statusmessage/config/{REGS}", {"callbackURL": "http://x.test/"}).status_code == 403

        # No status webhook yet: the L4 waits (Paused), it is not dropped.
        def journal() -> list[dict]:  # type: ignore[type-arg]
            return get(regs, f"/journal?transactionID={tx}").json()["transactions"][0]["journal"]  # type: ignore[no-any-return]

        wait_for(
            lambda: any(e["status"] == "Paused" for e in journal() if e["stage"] == "StatusMessage"), what="Paused"
        )

        status_hook = receiver_factory()
        status_hook.set_behaviour(accept_statuses)
        configured = post_json(regs, f"/statusmessage/config/{REGS}", {"callbackURL": status_hook.url("/l4")})
        assert configured.status_code == 201, configured.text
        with cast.hub.db.engine.begin() as conn:  # an operator's nudge: retry held statuses now, not in 30 s
            conn.exec_driver_sql("UPDATE status_deliveries SET next_attempt_at = 0")

        passed_on = wait_for(lambda: status_items(status_hook), what="the L4 at the sender's status webhook")
        assert [s["transactionID"] for s in passed_on] == [tx]
        assert passed_on[0]["recipientID"] == SUP
        assert passed_on[0]["help"] == "applied"
        assert passed_on[0]["message"] == "MSG0000 - Success"
        assert passed_on[0]["senderUniqueReference"].startswith("S-IF-043-")
        assert status_hook.received[0].verified, status_hook.received[0].verify_error

        wait_for(
            lambda: ("StatusMessage", "Delivered") in [(e["stage"], e["status"]) for e in journal()],
            what="L4 Delivered",
        )
        record = get(regs, f"/journal?transactionID={tx}").json()["transactions"][0]
        stages = [(e["stage"], e["status"]) for e in record["journal"]]
        assert stages[:2] == [("Inbound", "GoodToGo"), ("Addressing", "SentToTopic")]
        assert stages.index(("Outbound", "Delivered")) < stages.index(("StatusMessage", "Received"))
        assert stages.index(("StatusMessage", "Paused")) < stages.index(("StatusMessage", "Delivered"))
        assert [s["reportedBy"] for s in record["statusMessages"]] == [SUP]
        assert record["statusMessages"][0]["passedOn"] == [{"state": "delivered", "replayIndicator": False}]

        tracked = get(sup, f"/dip-channel/IF-043/deliveryStatus/{SUP}/{tx}")
        assert tracked.status_code == 200, tracked.text
        assert tracked.json()["deliveryStatus"] == "Delivered"
        assert tracked.json()["statusMessages"][0]["code"] == "MSG0000"
        assert get(other, f"/dip-channel/IF-043/deliveryStatus/{SUP}/{tx}").status_code in (403, 404)
        assert get(other, f"/journal?transactionID={tx}").json()["transactions"] == []

        # The sender can replay and requeue the statuses about its messages (and nobody else can).
        replayed = post_json(regs, f"/statusmessage/replay/{REGS}", {"transactionIDs": [tx]})
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["messageArray"] == passed_on
        by_mpan = post_json(regs, f"/statusmessage/replay/{REGS}", {"MPAN": "2000056535972"})
        assert by_mpan.json()["messageArray"] == [], by_mpan.text
        assert post_json(sup, f"/statusmessage/replay/{REGS}", {}).status_code == 403
        requeued = post_json(regs, f"/statusmessage/requeue/{REGS}", {})
        assert requeued.status_code == 202, requeued.text
        requeue_id = requeued.json()
        done = wait_for(
            lambda: (
                (s := get(regs, f"/statusmessage/requeueStatus/{REGS}?requeue-id={requeue_id}").json())["status"]
                != "Processing"
                and s
            ),
            what="the status requeue",
        )
        assert done["status"] == "Completed" and done["totalTransactions"] == 1
        assert [i["transactionID"] for i in status_items(status_hook)] == [tx, tx]
        assert get(sup, f"/statusmessage/requeueStatus/{REGS}?requeue-id={requeue_id}").status_code == 403
