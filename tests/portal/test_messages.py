"""The messages view: every filter, second-level time ranges, keyset pages with no row cap, CSV export."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime

import httpx
import pytest

from opendip.portal.query import iso_second
from opendip.simulator.examples import mpan_core
from tests.portal.pages import match_count, pager, params, transactions, walk
from tests.portal.world import BULK, FAIL_MPAN, LDSO, OK_MPANS, PENDING_MPAN, REGS, SUP, SUP2, SUP3, World, ctc

FILTERS = [
    {"interface": "IF-044"},
    {"event": "ConnectionTypeChange"},
    {"event": "[MarketSegmentChange]"},
    {"sender": REGS},
    {"sender": SUP},
    {"recipient": SUP2},
    {"recipient": LDSO, "state": "rejected"},
    {"recipient": SUP, "state": "rejected"},  # SUP took the message LDSO rejected: the same delivery must match
    {"state": "pending"},
    {"state": "failed"},
    {"outcome": "success", "interface": "IF-043"},
    {"outcome": "failure"},
    {"outcome": "pending"},
    {"mpan": f"{OK_MPANS[0]},{FAIL_MPAN}"},
    {"mpan": f"{OK_MPANS[0]} {PENDING_MPAN}\n{OK_MPANS[1]}", "interface": "IF-043"},
    {"mpan": mpan_core(999999)},
]


@pytest.mark.parametrize("query", FILTERS, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_filters_show_exactly_the_matching_messages(world: World, portal: httpx.Client, query: dict[str, str]) -> None:
    expected = world.truth().select({k: v.replace(" ", ",").replace("\n", ",") for k, v in query.items()})
    page = portal.get("/portal/messages", params={**query, "per_page": "500"})
    assert page.status_code == 200, page.text
    assert match_count(page.text) == len(expected)
    assert transactions(page.text) == expected


def test_several_mpans_as_repeated_parameters(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal/messages", params=[("mpan", OK_MPANS[0]), ("mpan", OK_MPANS[2])]).text
    assert sorted(transactions(page)) == sorted([world.tx["ok1"], world.tx["ok3"], world.tx["seg1"]])


def test_reference_finds_a_message_by_any_of_its_identifiers(world: World, portal: httpx.Client) -> None:
    truth = world.truth()
    row = next(m for m in truth.messages if m["transaction_id"] == world.tx["fail"])
    for ref in (row["transaction_id"], row["sender_unique_reference"], row["correlation_id"]):
        assert transactions(portal.get("/portal/messages", params={"ref": ref}).text) == [world.tx["fail"]]


def test_time_range_to_the_second(world: World, portal: httpx.Client) -> None:
    truth = world.truth()
    first_bulk = min(m["received_at"] for m in truth.messages if m["transaction_id"] in set(world.bulk))
    second = int(first_bulk)
    before = [m["transaction_id"] for m in truth.messages if m["received_at"] < second]
    from_second = [m["transaction_id"] for m in truth.messages if m["received_at"] >= second]
    assert before and from_second, "the world spans at least two seconds"

    listed, _ = walk(portal, f"/portal/messages?from={iso_second(second)}&per_page=500")
    assert listed == from_second
    listed, _ = walk(portal, f"/portal/messages?to={iso_second(second - 1)}&per_page=500")
    assert listed == before
    # the `to` second is included whole; an offset is understood
    inclusive = [m["transaction_id"] for m in truth.messages if m["received_at"] < second + 1]
    listed, _ = walk(portal, f"/portal/messages?to={iso_second(second)}%2B00:00&per_page=500")
    assert listed == inclusive
    # a from with a fraction is exact
    exact = datetime.fromtimestamp(first_bulk, UTC).isoformat(timespec="microseconds").replace("+00:00", "")
    instant = datetime.fromisoformat(exact).replace(tzinfo=UTC).timestamp()
    listed, _ = walk(portal, f"/portal/messages?from={exact}&per_page=500")
    assert listed == [m["transaction_id"] for m in truth.messages if m["received_at"] >= instant]


def test_keyset_pages_walk_every_message_with_no_cap(world: World, portal: httpx.Client) -> None:
    expected = world.truth().select({})
    assert len(expected) > 350, "more rows than the real portal's 350-row limit"
    listed, pages = walk(portal, "/portal/messages?per_page=50")
    assert listed == expected
    assert pages == -(-len(expected) // 50)
    # and back: from the last page, Newer links retrace the same pages
    last = portal.get("/portal/messages?per_page=50")
    link = pager(last.text, "next")
    while link:
        last = portal.get(link)
        link = pager(last.text, "next")
    backwards = transactions(last.text)
    link = pager(last.text, "prev")
    while link:
        page = portal.get(link).text
        backwards = transactions(page) + backwards
        link = pager(page, "prev")
    assert backwards == expected


def test_pages_neither_skip_nor_repeat_while_messages_arrive(world: World, portal: httpx.Client) -> None:
    before = world.truth().select({"interface": "IF-043"})
    first = portal.get("/portal/messages?interface=IF-043&per_page=5").text
    assert transactions(first) == before[:5]
    (answer,) = world.send([ctc(mpan_core(424242), [SUP])])
    try:
        second = portal.get(pager(first, "next") or "").text
        assert transactions(second) == before[5:10]
        newest = portal.get("/portal/messages?interface=IF-043&per_page=5").text
        assert transactions(newest)[0] == answer["transactionID"]
    finally:
        world.settle()


def test_csv_export_holds_the_whole_filtered_set(world: World, portal: httpx.Client) -> None:
    truth = world.truth()
    response = portal.get("/portal/messages.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["transactionID"] for r in rows] == truth.select({})
    assert len(rows) >= BULK + 8

    failing = list(csv.DictReader(io.StringIO(portal.get("/portal/messages.csv?outcome=failure").text)))
    assert [r["transactionID"] for r in failing] == [world.tx["fail"]]
    (row,) = failing
    assert row["MPANCore"] == FAIL_MPAN and row["outcome"] == "failure" and row["interfaceID"] == "IF-043"
    assert sorted(row["deliveries"].split(";")) == sorted([f"{SUP}:delivered:1:201", f"{LDSO}:rejected:1:207"])
    assert row["receivedAt"].endswith("+00:00")

    pending = list(csv.DictReader(io.StringIO(portal.get(f"/portal/messages.csv?recipient={SUP3}").text)))
    assert [r["transactionID"] for r in pending] == [world.tx["dead"]]


def test_bad_filters_are_explained_and_nothing_is_listed(world: World, portal: httpx.Client) -> None:
    page = portal.get(
        "/portal/messages",
        params={"mpan": f"{OK_MPANS[0]},12345", "sender": "abc", "outcome": "great", "to": "2026-13-01", "mpans": "1"},
    )
    assert page.status_code == 400
    text = page.text
    assert "MSG1001 - Schema Failure" in text
    for problem in (
        "query.mpans: unknown parameter",
        "query.mpan[1]: an MPAN core is 13 digits; got &#39;12345&#39;",
        "query.sender: must be a 10-digit DIP ID",
        "query.outcome: must be one of success, pending, failure",
        "query.to: must be a UTC date-time",
    ):
        assert problem in text, problem
    assert "match-count" not in text
    assert f"{OK_MPANS[0]},12345" in text  # the form keeps what was typed, to correct it
    reversed_range = portal.get("/portal/messages", params={"from": "2026-11-25T10:00:00", "to": "2026-11-25T09:00:00"})
    assert reversed_range.status_code == 400
    assert "query.to: must not be before query.from" in reversed_range.text


def test_bad_csv_filter_answers_a_standard_response(world: World, portal: httpx.Client) -> None:
    response = portal.get("/portal/messages.csv", params={"mpan": "12345", "per_page": "10"})
    assert response.status_code == 400
    item = response.json()["messageArray"][0]
    assert item["message"] == "MSG1001 - Schema Failure"
    assert "query.mpan[0]: an MPAN core is 13 digits" in item["help"]
    assert "query.per_page: unknown parameter" in item["help"]


def test_a_tampered_cursor_is_refused(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal/messages", params={"after": "1' OR 1=1 --"})
    assert page.status_code == 400
    assert "query.after: must be a cursor taken from a Next or Previous link" in page.text


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/portal/messages", "/portal/journal"])
def test_page_cursors_are_sealed_and_an_edited_one_is_refused_with_a_page(
    world: World, portal: httpx.Client, path: str
) -> None:
    first = portal.get(path, params={"per_page": "2"}, headers={"Accept": "text/html"})
    link = pager(first.text, "next")
    assert first.status_code == 200 and link, "the shared market has more than two rows"
    cursor = params(link)["after"]
    followed = portal.get(link, headers={"Accept": "text/html"})
    assert followed.status_code == 200 and pager(followed.text, "prev")
    payload, signature = cursor.split(".")
    position = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert position.split("_")[-1].isdigit(), "the cursor still names a keyset position, readable"
    stepped = position[:-1] + str((int(position[-1]) + 1) % 10)  # one row further, as a hand-edited link would
    other = "/portal/journal" if path == "/portal/messages" else "/portal/messages"
    foreign = params(pager(portal.get(other, params={"per_page": "2"}).text, "next") or "?after=x.y")["after"]
    for tampered in (f"{_b64(stepped.encode())}.{signature}", position, f"{payload}.{_b64(bytes(16))}", foreign):
        for name in ("after", "before"):
            refused = portal.get(path, params={"per_page": "2", name: tampered}, headers={"Accept": "text/html"})
            assert refused.status_code == 400 and refused.headers["content-type"].startswith("text/html"), tampered
            assert f"query.{name}: must be a cursor taken from a Next or Previous link" in refused.text, refused.text
