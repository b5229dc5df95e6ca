"""The dashboard: counts by outcome, interface, recipient and journal stage, each a link to exactly its rows."""

from __future__ import annotations

import re

import httpx

from tests.portal.pages import match_count, numbers, params, transactions, walk
from tests.portal.world import BULK, LDSO, SUP, SUP2, SUP3, World


def test_dashboard_counts_what_happened(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal", params=world.frozen)
    assert page.status_code == 200
    text = page.text
    stored = BULK + 8  # six IF-043, two IF-044, the bulk; the refused one is not stored
    accepted = re.search(r'Accepted</span> <a class="num" href="[^"]+">(\d+)</a>', text)
    assert accepted and int(accepted.group(1)) == stored
    row = re.search(r"<th scope=\"row\">IF-044</th>.*?</tr>", text, re.S)
    assert row and [n for n, _ in numbers(row.group(0))] == [2, 2, 0, 0]  # all, success, pending, failure
    row = re.search(r"<th scope=\"row\">IF-043</th>.*?</tr>", text, re.S)
    assert row and [n for n, _ in numbers(row.group(0))] == [BULK + 6, BULK + 3, 2, 1]
    ldso = re.search(rf"<code>{LDSO}</code>.*?</tr>", text, re.S)
    # all, pending, delivered, failed, rejected, exhausted, unknown: LDSO is copied on every MPAN message
    assert ldso and [n for n, _ in numbers(ldso.group(0))] == [stored, 0, stored - 1, 1, 1, 0, 0]
    for recipient in (SUP2, SUP3):
        pending = re.search(rf"<code>{recipient}</code>.*?</tr>", text, re.S)
        assert pending and [n for n, _ in numbers(pending.group(0))][:3] == [1, 1, 0]
    stage = re.search(r"<td>Inbound</td><td>InboundRuleFailure</td><td class=\"n\">(.*?)</td>", text)
    assert stage and numbers(stage.group(1))[0][0] == 1


def test_every_number_opens_exactly_the_messages_behind_it(world: World, portal: httpx.Client) -> None:
    truth = world.truth()
    cells = numbers(portal.get("/portal", params=world.frozen).text)
    assert len(cells) > 40
    for count, link in cells:
        wanted = params(link)
        if link.startswith("/portal/journal"):
            page = portal.get(link + "&per_page=500").text
            assert match_count(page) == count, link
            by_id = {e["id"]: e["transaction_id"] for e in truth.journal}
            assert transactions(page) == [by_id[i] for i in truth.select_journal(wanted)][:500], link
            continue
        assert link.startswith("/portal/messages?"), link
        expected = truth.select(wanted)
        assert count == len(expected), (link, count, len(expected))
        separator = "&" if "?" in link else "?"
        first = portal.get(link).text
        assert match_count(first) == count, link
        if count <= 20 or wanted.get("recipient") == SUP:  # walk the small sets and one big one fully
            listed, _ = walk(portal, link + separator + "per_page=500")
            assert listed == expected, link


def test_preset_and_custom_windows(world: World, portal: httpx.Client) -> None:
    recent = portal.get("/portal", params={"window": "15m"}).text
    assert 'aria-current="true">last 15m' in recent
    accepted = re.search(r'Accepted</span> <a class="num" href="[^"]+">(\d+)</a>', recent)
    assert accepted and int(accepted.group(1)) >= BULK + 8
    old = portal.get("/portal", params={"from": "2000-01-01T00:00:00", "to": "2000-01-01T23:59:59"})
    assert old.status_code == 200
    assert "No messages were received in this window." in old.text
    assert all(count == 0 for count, _ in numbers(old.text))
    assert "2000-01-01 00:00:00" in old.text and "2000-01-01 23:59:59" in old.text


def test_a_bad_window_is_explained(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal", params={"window": "2h", "from": "yesterday"})
    assert page.status_code == 400
    assert "MSG1001 - Schema Failure" in page.text
    assert "query.window: must be one of 15m, 1h, 24h, 7d, 30d; got &#39;2h&#39;" in page.text
    assert "query.from: must be a UTC date-time" in page.text
    assert 'role="alert"' in page.text


def test_drill_down_from_failures_reaches_the_failing_message(world: World, portal: httpx.Client) -> None:
    text = portal.get("/portal", params=world.frozen).text
    failed = [link for _, link in numbers(text) if params(link).get("outcome") == "failure" and "interface" not in link]
    assert len(failed) == 1
    assert transactions(portal.get(failed[0]).text) == [world.tx["fail"]]
