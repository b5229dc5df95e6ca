"""The pre-login access rule: without sign-in, only clients on the hub's own machine see the portal.

The hub in these tests has no portal users and listens on every interface,
so the same portal is reached over loopback (the operator, who sees
everything) and over the machine's own non-loopback address, which must be
refused with a 401 in the DIP's format and no data.
"""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from opendip.portal.access import is_loopback
from tests.portal.world import World

ROUTES = ["/portal", "/portal/messages", "/portal/messages.csv", "/portal/journal", "/portal/participants"]


def outside_address() -> str:
    """This machine's address on its outbound interface (no packet is sent: UDP connect only picks a route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            pytest.skip("this machine has no non-loopback IPv4 address to test the access rule from")
        address = str(probe.getsockname()[0])
    if is_loopback(address):
        pytest.skip("this machine has no non-loopback IPv4 address to test the access rule from")
    return address


def test_loopback_clients_are_the_operator(world: World, portal: httpx.Client) -> None:
    for route in [*ROUTES, f"/portal/messages/{world.tx['ok1']}"]:
        response = portal.get(route)
        assert response.status_code == 200, route
    assert "local operator · Hub operator · all participants" in portal.get("/portal").text


def test_other_machines_get_401_in_the_dip_format(world: World) -> None:
    base = f"http://{outside_address()}:{world.hub.port}"
    for route in [*ROUTES, f"/portal/messages/{world.tx['ok1']}", "/portal/messages?mpan=bad"]:
        response = httpx.get(base + route)
        assert response.status_code == 401, route
        item = response.json()["messageArray"][0]
        assert re.match(r"MSG2\d{3} - ", item["message"]), item  # an authentication code, with what to do
        assert "sign in" in item["help"].lower()
        assert world.tx["ok1"] not in response.text and "1009012345" not in response.text
    # the API itself is not the portal's business: it still answers on that address (signed requests decide)
    assert httpx.get(base + "/healthz").status_code == 200


def test_a_proxy_on_the_hub_machine_does_not_make_its_users_local(world: World, portal: httpx.Client) -> None:
    proxied = portal.get("/portal/messages", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 401
    assert world.tx["ok1"] not in proxied.text
    base = f"http://{outside_address()}:{world.hub.port}"
    spoofed = httpx.get(base + "/portal", headers={"X-Forwarded-For": "127.0.0.1"})
    assert spoofed.status_code == 401, "X-Forwarded-For is only believed from the proxy on loopback"


def test_the_stylesheet_holds_no_data_and_is_served_to_anyone(world: World) -> None:
    base = f"http://{outside_address()}:{world.hub.port}"
    css = httpx.get(base + "/portal/static/portal.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert httpx.get(base + "/portal/static/..%2Fendpoints.py").status_code == 404
    assert httpx.get(world.base + "/portal/static/missing.css").status_code == 404


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.0.2.7", False),
        ("::ffff:192.0.2.7", False),
        ("10.0.0.1", False),
        ("testclient", False),
        ("", False),
        (None, False),
    ],
)
def test_what_counts_as_loopback(host: str | None, local: bool) -> None:
    assert is_loopback(host) is local


def test_the_hubs_own_address_opens_the_portal(world: World, portal: httpx.Client) -> None:
    """A new user types the address `make run` printed, without /portal."""
    door = portal.get("/", headers={"Accept": "text/html"})
    assert door.status_code == 307 and door.headers["location"] == "/portal"
    assert portal.post("/").status_code == 405  # only a GET is a visit


def test_a_browser_gets_error_pages_and_scripts_keep_json_for_real_pages(world: World, portal: httpx.Client) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    for path in ("/portal/no-such-page", "/manage/no-such-page"):
        page = portal.get(path, headers=html)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), path
        assert "<h1>Page not found</h1>" in page.text and 'href="/portal/messages"' in page.text
        curl = portal.get(path)  # Accept: */* — no script has a contract with a page that does not exist
        assert curl.status_code == 404 and curl.headers["content-type"].startswith("text/html"), path
        script = portal.get(path, headers={"Accept": "application/json"})
        assert script.status_code == 404 and script.headers["content-type"] == "application/json", path
    bad_filter = portal.get("/portal/messages.csv", params={"sender": "x"})
    assert bad_filter.status_code == 400 and bad_filter.headers["content-type"] == "application/json"
    assert portal.get("/dip-channel/IF-043/nope", headers=html).headers["content-type"] == "application/json"


def test_the_sign_in_page_says_how_to_create_the_first_user(world: World, portal: httpx.Client) -> None:
    page = portal.get("/login")
    assert page.status_code == 200
    assert "No user exists on this hub yet" in page.text and "opendip user add operator --role operator" in page.text
