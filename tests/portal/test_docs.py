"""`/docs` works offline and shows what `opendip catalogue export` writes: the hub API and every channel."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import httpx
import pytest

from tests.helpers.browser import screenshot
from tests.helpers.hub import OPENDIP
from tests.portal.world import World


@pytest.fixture(scope="module")
def exported() -> dict[str, Any]:
    done = subprocess.run([OPENDIP, "catalogue", "export"], capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_docs_serve_the_exported_document_and_local_assets(world: World, exported: dict[str, Any]) -> None:
    page = httpx.get(world.base + "/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/") for s in sources), sources
    for source in sources:
        assert httpx.get(world.base + source).status_code == 200, source
    served = httpx.get(world.base + "/docs/openapi.json").json()
    assert sorted(served["paths"]) == sorted(exported["paths"])
    assert "/dip-channel/IF-043" in served["paths"] and len(served["paths"]) > 60
    assert httpx.get(world.base + "/docs/assets/..%2F..%2F__init__.py").status_code == 404


@pytest.mark.browser
def test_docs_render_with_the_network_cut_off(world: World, browser: Any) -> None:
    context = browser.new_context(base_url=world.base, viewport={"width": 1280, "height": 800})
    outside: list[str] = []

    def only_the_hub(route: Any) -> None:
        if route.request.url.startswith(world.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_hub)
    page = context.new_page()
    page.goto("/docs")
    channels = page.locator(".opblock-tag", has_text="DIP Message Channel").first
    channels.wait_for(timeout=60_000)
    channels.click()
    page.locator(".opblock-summary-path", has_text="/dip-channel/IF-043").first.wait_for()
    assert outside == []
    screenshot(page, "docs")
    context.close()
