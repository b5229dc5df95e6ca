"""Failures split by cause on the dashboard: each bar opens exactly the messages (or refusals) it counts."""

from __future__ import annotations

import re

import httpx

from tests.portal.pages import chart_bars, match_count, params, transactions
from tests.portal.world import World


def test_every_cause_bar_opens_exactly_what_it_counts(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal", params=world.frozen).text
    truth = world.truth()
    refused = chart_bars(page, "chart-refused")
    rejected = chart_bars(page, "chart-rejected")
    assert [title for _, title in refused] == ["MSG1001: 1 refused at inbound entries"]
    assert [title for _, title in rejected] == ["MSG1001: 1 rejected messages"]  # LDSO's 207 for FAIL_MPAN
    assert "MSG1001</text>" in page and re.search(r">1 · [0-9.]+%</text>", page)
    assert re.search(r"by the code it answered \(share of \d+ accepted\)", page)
    for link, title in refused + rejected + chart_bars(page, "chart-http"):
        claimed = int(title.split(": ")[1].split()[0])
        opened = portal.get(link + "&per_page=500").text
        assert match_count(opened) == claimed, (link, title)
        wanted = params(link)
        if link.startswith("/portal/journal"):
            by_id = {e["id"]: e["transaction_id"] for e in truth.journal}
            assert transactions(opened) == [by_id[i] for i in truth.select_journal(wanted)], link
        else:
            assert transactions(opened) == truth.select(wanted), link
    assert transactions(portal.get(rejected[0][0]).text) == [world.tx["fail"]]


def test_answer_code_and_http_status_filters(world: World, portal: httpx.Client) -> None:
    truth = world.truth()
    for query in (
        {"code": "MSG1001"},
        {"code": "other", "state": "pending"},
        {"http": "none", "state": "pending"},
        {"http": "207"},
        {"http": "201", "recipient": "2300000900"},
    ):
        page = portal.get("/portal/messages", params={**query, "per_page": 500}).text
        assert transactions(page) == truth.select(query)[:500], query
    journal = portal.get("/portal/journal", params={"code": "MSG1001", "stage": "Inbound"}).text
    assert match_count(journal) == 1 and transactions(journal) == [world.tx["rejected"]]
    bad = portal.get("/portal/messages", params={"code": "RCP20", "http": "99x"})
    assert bad.status_code == 400
    assert "query.code: must be a DIP answer code" in bad.text and "query.http: must be an HTTP status" in bad.text
