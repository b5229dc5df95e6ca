"""The portal in a real browser: Debian's chromium driven by Playwright, against the real hub process.

Playwright cannot download its own browser here, so these tests use the
system `chromium` (`make browser` installs it). Without it they fail under
CI=true and skip, loudly, elsewhere. Screenshots of the dashboard and a
message page are left in /tmp for a human to look at. The hub and its
messages are the portal tests' shared market (tests/portal/world.py).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.portal.world import FAIL_MPAN, LDSO, OK_MPANS, SUP3, World

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Any, world: World) -> Iterator[Any]:
    context = browser.new_context(base_url=world.base, viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def shown(page: Any) -> list[str]:
    """The transaction IDs listed (each shown shortened; the link's title holds it whole)."""
    return [str(t) for t in page.locator("a.tx").evaluate_all("links => links.map(a => a.title)")]


def test_from_a_dashboard_number_to_the_failing_message(page: Any, world: World, request: Any) -> None:
    kind = request.node.callspec.params["world"]
    page.goto("/portal?" + urlencode(world.frozen))
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.screenshot(path=f"/tmp/opendip-portal-dashboard-{kind}.png", full_page=True)

    failed = page.locator("li.card", has_text="Failed for a recipient").locator("a.num")
    assert failed.inner_text() == "1"
    failed.click()
    page.wait_for_url(re.compile(r"/portal/messages\?.*outcome=failure"))
    assert page.locator("#match-count").inner_text() == "1"
    assert shown(page) == [world.tx["fail"]]

    page.get_by_role("link", name=world.tx["fail"]).click()
    page.wait_for_url(f"**/portal/messages/{world.tx['fail']}")
    assert page.get_by_role("heading", name=re.compile("^Message ")).inner_text().endswith(world.tx["fail"])
    timeline = page.get_by_role("table", name="Every stage of this message, in order")
    rejected = timeline.get_by_role("row").filter(has_text="RejectedByRecipient")
    assert LDSO in rejected.inner_text() and "207" in rejected.inner_text()
    page.screenshot(path=f"/tmp/opendip-portal-message-{kind}.png", full_page=True)


def test_filter_form_with_several_mpans_then_csv(page: Any, world: World) -> None:
    page.goto("/portal/messages")
    page.get_by_label("MPAN cores").fill(f"{OK_MPANS[0]}\n{FAIL_MPAN}, {OK_MPANS[1]}")
    page.get_by_label("Interface").select_option("IF-043")
    page.get_by_label("Outcome").select_option("success")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"outcome=success"))
    expected = [world.tx["ok2"], world.tx["ok1"]]
    assert shown(page) == expected
    assert page.get_by_label("MPAN cores").input_value() == f"{OK_MPANS[0]}\n{FAIL_MPAN}, {OK_MPANS[1]}"

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download all 2 as CSV")).click()
    with open(download.value.path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["transactionID"] for r in rows] == expected
    assert {r["outcome"] for r in rows} == {"success"}


def test_paging_through_every_message(page: Any, world: World) -> None:
    expected = world.truth().select({})
    page.goto("/portal/messages")
    page.get_by_label("Rows per page").select_option("100")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"per_page=100"))
    seen = shown(page)
    while page.locator('a[rel="next"]').count():
        page.locator('a[rel="next"]').click()
        page.wait_for_load_state()
        seen += shown(page)
    assert seen == expected
    page.locator('a[rel="prev"]').click()
    page.wait_for_load_state()
    assert shown(page) == expected[(len(expected) - 1) // 100 * 100 - 100 :][:100]


def test_a_mistyped_filter_is_explained_next_to_the_form(page: Any, world: World) -> None:
    page.goto("/portal/messages")
    page.get_by_label("Sender DIP ID").fill("10090")
    page.get_by_label("From (UTC)").fill("25/11/2026")
    page.get_by_role("button", name="Apply filters").click()
    alert = page.get_by_role("alert")
    assert "MSG1001 - Schema Failure" in alert.inner_text()
    assert "query.sender: must be a 10-digit DIP ID; got '10090'" in alert.inner_text()
    assert "query.from: must be a UTC date-time" in alert.inner_text()
    assert page.get_by_label("Sender DIP ID").input_value() == "10090"


def test_participants_lead_to_a_stuck_recipient_s_messages(page: Any, world: World) -> None:
    page.goto("/portal/participants")
    row = page.locator(f"#p-{SUP3}")
    assert "open" in row.locator(".badge.b-open").inner_text()
    row.locator("a.num").first.click()
    page.wait_for_url(re.compile(rf"recipient={SUP3}"))
    assert shown(page) == [world.tx["dead"]]
