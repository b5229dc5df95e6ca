"""The portal at a glance, in a real browser: charts whose bars open their messages, dense lists, badges, a phone.

Runs on the shared portal market (tests/portal/world.py), so every count a
bar claims is checked against the list its link opens. Screenshots of the
main pages are left for a human (tests/helpers/browser.py says where).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from opendip.core.audit import Actor
from opendip.participants.controls import Direction, TrafficControl
from tests.helpers.browser import screenshot
from tests.portal.world import LDSO, SUP2, World

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Any, world: World) -> Iterator[Any]:
    context = browser.new_context(base_url=world.base, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def bar_count(title: str) -> int:
    found = re.search(r": (\d+) ", title)
    assert found, title
    return int(found.group(1))


def follow(page: Any, bar: Any) -> tuple[int, int]:
    """Click a bar; answer (the count its tooltip claims, the count the opened list shows)."""
    claimed = bar_count(bar.locator("title").text_content())
    bar.click()
    page.wait_for_url(re.compile(r"/portal/messages\?"))
    return claimed, int(page.locator("#match-count").inner_text())


def test_chart_bars_open_exactly_the_messages_they_count(page: Any, world: World, request: Any) -> None:
    kind = request.node.callspec.params["world"]
    dashboard = "/portal?" + urlencode(world.frozen)
    page.goto(dashboard)
    interface_bars = page.locator("#chart-interface-title").locator("xpath=..").locator("a.bar")
    assert interface_bars.count() >= 2
    screenshot(page, f"portal-dashboard-{kind}", full_page=True)
    for index in (0, interface_bars.count() - 1):
        page.goto(dashboard)
        claimed, listed = follow(
            page, page.locator("#chart-interface-title").locator("xpath=..").locator("a.bar").nth(index)
        )
        assert claimed == listed and "interface=" in page.url and "from=" in page.url

    page.goto(dashboard)
    rejected = page.locator("#chart-failures-title").locator("xpath=..").locator("a.bar", has_text="")
    titles = rejected.locator("title").all_text_contents()
    ldso = next(i for i, t in enumerate(titles) if t.startswith(f"{LDSO}:") and "rejected" in t)
    claimed, listed = follow(page, rejected.nth(ldso))
    assert claimed == listed == 1 and f"recipient={LDSO}" in page.url and "state=rejected" in page.url

    page.goto(dashboard)
    backlog = page.locator("#chart-backlog-title").locator("xpath=..")
    assert "oldest" in backlog.inner_text()
    claimed, listed = follow(page, backlog.locator("a.bar").first)
    assert claimed == listed and "state=pending" in page.url


def test_twenty_rows_fit_at_1280_by_800_and_ids_are_short_with_copy(page: Any, world: World, request: Any) -> None:
    kind = request.node.callspec.params["world"]
    page.goto("/portal/messages?" + urlencode({"interface": "IF-043", "per_page": 50}))
    rows = page.locator("table.messages tbody tr")
    screenshot(page, f"portal-messages-{kind}")
    bottoms = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().bottom)")
    assert sum(1 for bottom in bottoms if bottom <= 800) >= 20, bottoms[:25]
    first = rows.first.locator("a.tx")
    full = first.get_attribute("title")
    assert full and full.startswith("T-") and "…" in first.inner_text() and len(first.inner_text()) < len(full)
    assert rows.first.get_by_role("button", name=f"Copy {full}").is_visible()
    assert page.locator("details.filterbar").get_attribute("open") is None, "a filtered list folds its filters away"
    page.locator("details.filterbar > summary").click()
    assert page.get_by_label("Interface").is_visible()


def test_badges_for_stopped_participants_and_open_breakers(page: Any, world: World) -> None:
    control = TrafficControl(world.hub.db)
    control.set_stopped(SUP2, Direction.RECEIVING, True, actor=Actor.cli())
    try:
        page.goto("/portal/participants")
        row = page.locator(f"#p-{SUP2}")
        assert row.locator(".badge", has_text="receiving stopped").is_visible()
        assert page.locator(".badge.b-open").count() >= 1
        screenshot(page, "portal-participants")
    finally:
        control.set_stopped(SUP2, Direction.RECEIVING, False, actor=Actor.cli())


def test_a_phone_reads_the_lists_without_scrolling_the_page_sideways(browser: Any, world: World) -> None:
    context = browser.new_context(base_url=world.base, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    for path in ("/portal", "/portal/messages?interface=IF-043", "/portal/participants"):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, (path, width)
    screenshot(phone, "portal-phone-messages")
    context.close()
