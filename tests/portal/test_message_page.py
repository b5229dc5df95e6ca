"""One message's page: its facts, payload, deliveries with every attempt, and the full journal timeline."""

from __future__ import annotations

import re

import httpx

from tests.portal.world import FAIL_MPAN, LDSO, OK_MPANS, REGS, SCRIPT_SUBTEXT, SUP, SUP2, SUP3, World


def rows(page: str, table_class: str) -> list[str]:
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', page, re.S)
    assert table, f"no {table_class} table"
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr.*?</tr>", table.group(1), re.S)
    ][1:]


def test_failed_message_shows_payload_deliveries_attempts_and_timeline(world: World, portal: httpx.Client) -> None:
    tx = world.tx["fail"]
    page = portal.get(f"/portal/messages/{tx}")
    assert page.status_code == 200
    text = page.text
    assert f'<code class="tx">{tx}</code>' in text
    assert '<span class="badge o-failure">failed</span>' in text
    assert f"<code>{FAIL_MPAN}</code>" in text
    assert "[ConnectionTypeChange]" in text and f">{REGS}</a> REGS" in text
    # the payload as stored, pretty-printed
    assert f"&#34;MPANCore&#34;: &#34;{FAIL_MPAN}&#34;" in text
    assert "&#34;B023&#34;" in text and "&#34;connectionTypeIndicator&#34;: &#34;L&#34;" in text
    # deliveries: one per recipient, with state, HTTP status and the attempt history
    deliveries = re.search(r'<section aria-labelledby="deliveries-title">(.*?)</section>', text, re.S)
    assert deliveries
    sup_row = re.search(rf"<code>{SUP}</code>.*?</tr>", deliveries.group(1), re.S)
    ldso_row = re.search(rf"<code>{LDSO}</code>.*?</tr>", deliveries.group(1), re.S)
    assert sup_row and "s-delivered" in sup_row.group(0) and "HTTP 201" in sup_row.group(0)
    assert ldso_row and "s-rejected" in ldso_row.group(0) and "HTTP 207" in ldso_row.group(0)
    assert "#1 " in ldso_row.group(0) and "not accepted by this distributor" in ldso_row.group(0)
    # the journal, in order, with stage, status, recipient, attempt, timings, HTTP status and reason
    timeline = rows(text, "timeline")
    stages = [" ".join(r.split(" ")[2:4]) for r in timeline]
    assert stages[:2] == ["Inbound GoodToGo", "Addressing SentToTopic"]
    assert sorted(stages[2:]) == ["Outbound Delivered", "Outbound RejectedByRecipient"]
    rejected = next(r for r in timeline if "RejectedByRecipient" in r)
    assert LDSO in rejected and " 207 " in rejected and "MSG1001 - Schema Failure" in rejected
    assert re.search(r" 1 [\d.,]+ m?s [\d.,]+ m?s 207 ", rejected), rejected  # attempt, duration, delay
    assert f"recipients: {SUP} (primary), {LDSO} (secondary)" in text


def test_pending_and_failing_recipients_show_why(world: World, portal: httpx.Client) -> None:
    held = portal.get(f"/portal/messages/{world.tx['pending']}").text
    assert '<span class="badge o-pending">in progress</span>' in held
    paused = next(r for r in rows(held, "timeline") if "Paused" in r)
    assert SUP2 in paused and "no webhook configured" in paused

    dead = portal.get(f"/portal/messages/{world.tx['dead']}").text
    failures = [r for r in rows(dead, "timeline") if "DeliveryFailure" in r or "Retrying" in r]
    assert any(SUP3 in r and "DeliveryFailure" in r for r in failures), failures
    assert any("Retrying" in r and "attempt 2 in" in r for r in failures), failures
    assert "next " in re.search(rf"<code>{SUP3}</code>.*?</tr>", dead, re.S).group(0)  # type: ignore[union-attr]


def test_a_message_refused_at_inbound_has_a_page_too(world: World, portal: httpx.Client) -> None:
    page = portal.get(f"/portal/messages/{world.tx['rejected']}")
    assert page.status_code == 200
    assert "This message was not stored" in page.text
    (entry,) = rows(page.text, "timeline")
    assert "Inbound InboundRuleFailure" in entry
    assert "connectionTypeIndicator" in entry and "MSG1001 - Schema Failure" in entry


def test_what_senders_wrote_is_shown_as_text_never_run(world: World, portal: httpx.Client) -> None:
    page = portal.get(f"/portal/messages/{world.tx['ok1']}").text
    assert SCRIPT_SUBTEXT not in page
    assert "&lt;script&gt;alert(&#39;portal&#39;)&lt;/script&gt;" in page
    assert f"<code>{OK_MPANS[0]}</code>" in page


def test_unknown_message_is_a_clear_404(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal/messages/T-IF-043-0000000000-SUP-20260101-NOPE")
    assert page.status_code == 404
    assert "MSG4004 - Not Found" in page.text
    assert "there is no message T-IF-043-0000000000-SUP-20260101-NOPE that you may see" in page.text
