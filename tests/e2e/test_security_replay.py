"""Replay protection (issue 16, finding 5): a captured signed request is refused when resent, by any node and
after a restart; the same L4 status sent twice is stored once and answered the same way both times."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from sqlalchemy import text

from opendip.errors import Msg
from opendip.messages.client import DipClient
from tests.e2e.conftest import Cast
from tests.status.support import REGS, SUP, ctc, get, post_json, send


def capture(client: DipClient, method: str, path: str, body: Any = None) -> tuple[str, str, bytes, dict[str, str]]:
    """A signed request as an eavesdropper would record it: method, URL, body and every header."""
    raw = b"" if body is None else orjson.dumps(body)
    url = client.base_url + path
    headers = client._signer.headers(method, url, raw)
    headers.update({"X-API-Key": client.credentials.api_key, "Content-Type": "application/json"})
    return method, url, raw, headers


def resend(captured: tuple[str, str, bytes, dict[str, str]]) -> httpx.Response:
    method, url, raw, headers = captured
    return httpx.request(method, url, content=raw, headers=headers, timeout=30)


def refused_as_replay(response: httpx.Response) -> bool:
    return response.status_code == 401 and response.json()["messageArray"][0]["message"] == (
        Msg.SIGNATURE_REPLAYED.spec.message
    )


def stored(cast: Cast, sql: str, **params: str) -> int:
    with cast.hub.db.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_captured_requests_are_refused_when_resent_even_after_a_restart(cast: Cast) -> None:
    with cast.client(cast.regs) as regs, cast.client(cast.sup) as sup:
        tx = send(regs, [ctc(1)])[0]
        cast.sup_receiver.wait_for(1)

        # An L4 captured on the wire and resent: the first is stored, the copy is refused.
        status = capture(sup, "POST", "/statusmessage", [{"transactionID": tx, "message": "MSG0000 - Success"}])
        assert resend(status).status_code == 201
        again = resend(status)
        assert refused_as_replay(again), again.text
        count = "SELECT COUNT(*) FROM status_messages WHERE transaction_id = :tx"
        assert stored(cast, count, tx=tx) == 1

        # A captured DELETE of a webhook, resent after the owner set a new one, leaves the new one alone.
        hook = cast.sup_receiver.url(f"/webhook/{SUP}")
        hooks = "SELECT COUNT(*) FROM webhooks WHERE recipient_dip_id = :who AND interface_id = 'IF-043'"
        assert sup.set_webhook("IF-043", SUP, hook).status_code == 201
        removal = capture(sup, "DELETE", f"/dip-channel/IF-043/pubconfig/{SUP}")
        removed = resend(removal)
        assert removed.status_code in (200, 204), removed.text
        assert stored(cast, hooks, who=SUP) == 0
        assert sup.set_webhook("IF-043", SUP, hook).status_code == 201
        assert refused_as_replay(resend(removal))
        assert stored(cast, hooks, who=SUP) == 1

        # The record is in the store: a restarted hub (or another API node) refuses the same copies.
        pending = capture(sup, "POST", f"/statusmessage/config/{SUP}", {"callbackURL": "https://example.test/l4"})
        cast.hub.stop()
        cast.hub.start()
        assert refused_as_replay(resend(status))
        assert resend(pending).status_code == 201
        assert refused_as_replay(resend(pending))

        # Reads change nothing and may be repeated; a freshly signed request always goes through.
        read = capture(regs, "GET", f"/journal?transactionID={tx}")
        assert resend(read).status_code == resend(read).status_code == 200
        assert get(regs, f"/journal?transactionID={tx}").status_code == 200


def test_the_same_l4_twice_is_stored_once_and_answered_alike(cast: Cast) -> None:
    with cast.client(cast.regs) as regs, cast.client(cast.sup) as sup:
        tx = send(regs, [ctc(2)])[0]
        cast.sup_receiver.wait_for(1)
        report = [{"transactionID": tx, "message": "MSG0000 - Success", "help": "applied"}]
        first = post_json(sup, "/statusmessage", report)
        second = post_json(sup, "/statusmessage", report)  # signed afresh: a retry, not a replay
        both = post_json(sup, "/statusmessage", report + report)  # twice in one array
        assert first.status_code == second.status_code == both.status_code == 201, (first.text, second.text)
        answers = [first.json()["messageArray"][0], second.json()["messageArray"][0], *both.json()["messageArray"]]
        assert {a["message"] for a in answers} == {"MSG0000 - Success"}
        assert {(a["transactionID"], a["senderUniqueReference"], a["recipientID"]) for a in answers} == {
            (tx, answers[0]["senderUniqueReference"], SUP)
        }
        assert "already recorded" in answers[1]["help"]
        count = "SELECT COUNT(*) FROM status_messages WHERE transaction_id = :tx"
        assert stored(cast, count, tx=tx) == 1
        queued = "SELECT COUNT(*) FROM status_deliveries d JOIN status_messages s ON s.id = d.status_message_id"
        assert stored(cast, queued + " WHERE s.transaction_id = :tx", tx=tx) == 1

        # A different code about the same transaction is a different status, stored in its own right.
        failed = post_json(sup, "/statusmessage", [{"transactionID": tx, "message": "RCP1001 - Schema Failure"}])
        assert failed.status_code == 201, failed.text
        assert stored(cast, count, tx=tx) == 2
        assert REGS in failed.json()["messageArray"][0]["help"]
