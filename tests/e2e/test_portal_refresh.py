"""Auto-refresh in a real browser: the dashboard's numbers change in place, and Pause holds them still.

The page's clock is Playwright's, so "every 15 seconds" is run on demand
rather than waited for; the network answers in real time, and every check
polls with a generous deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opendip.simulator.examples import mpan_core
from tests.helpers.browser import screenshot
from tests.helpers.waiting import wait_until
from tests.portal.world import SUP, World, ctc

pytestmark = pytest.mark.browser
INTERVAL_MS = 15_000


@pytest.fixture
def page(browser: Any, world: World) -> Iterator[Any]:
    context = browser.new_context(base_url=world.base, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.clock.install()
    yield page
    context.close()


def test_the_dashboard_refreshes_in_place_and_pause_holds_it(page: Any, world: World) -> None:
    def accepted() -> int:
        return int(page.locator(".card", has_text="Accepted").locator("a.num").inner_text())

    def refreshes() -> int:
        return int(page.locator("[data-refresh-every]").get_attribute("data-refreshed") or 0)

    page.goto("/portal?window=15m")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    before = accepted()
    world.send([ctc(mpan_core(7000 + n), [SUP]) for n in range(3)])
    page.clock.run_for(INTERVAL_MS + 1000)
    wait_until(lambda: refreshes() >= 1, "the first refresh")
    wait_until(lambda: accepted() == before + 3, "the new messages in the Accepted card")
    assert page.evaluate("window.loadedOnce") is True, "the numbers changed without reloading the page"
    assert "Updated" in page.locator("[data-refresh-status]").inner_text()

    page.get_by_role("button", name="Pause auto-refresh").click()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    world.send([ctc(mpan_core(7100 + n), [SUP]) for n in range(2)])
    page.clock.run_for(4 * INTERVAL_MS)
    assert asked == [] and accepted() == before + 3, "paused: no request, the numbers hold still"
    pause = page.get_by_role("button", name="Resume auto-refresh")
    assert pause.get_attribute("aria-pressed") == "true"
    screenshot(page, "portal-dashboard-paused")

    page.reload()  # the choice is remembered
    page.clock.run_for(2 * INTERVAL_MS)
    assert page.get_by_role("button", name="Resume auto-refresh").is_visible()
    page.evaluate("window.loadedOnce = true")
    asked.clear()
    reloaded = accepted()
    assert reloaded == before + 5
    world.send([ctc(mpan_core(7200), [SUP])])
    page.get_by_role("button", name="Resume auto-refresh").click()  # resuming refreshes at once
    wait_until(lambda: accepted() == reloaded + 1, "the refresh on resuming")
    assert page.evaluate("window.loadedOnce") is True and asked


def test_a_message_page_refreshes_its_deliveries(page: Any, world: World) -> None:
    page.goto(f"/portal/messages/{world.tx['ok2']}")
    page.clock.run_for(11_000)
    control = page.locator("[data-refresh-every]")
    wait_until(lambda: (control.get_attribute("data-refreshed") or "0") != "0", "the message page's refresh")
    assert page.get_by_role("heading", name="Deliveries").is_visible()
    assert page.get_by_role("button", name="Pause auto-refresh").is_visible()
