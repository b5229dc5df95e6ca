"""The webhook URL guard: header injection, path traversal, credentials, the hub itself, SSRF."""

from __future__ import annotations

import pytest

from opendip.errors import Msg
from opendip.participants.urls import WebhookPolicy, WebhookUrlRefused

HUB = (("127.0.0.1", 8000),)
TEST = WebhookPolicy().with_hub(HUB)


def dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A fixed DNS answer per name, so production-mode tests do not depend on the network."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


PRODUCTION = WebhookPolicy(
    production=True,
    allow=("partner.internal.example", "10.20.0.0/16"),
    resolver=dns(
        {
            "hooks.example.com": ["93.184.216.34"],
            "sneaky.example.com": ["93.184.216.34", "10.0.0.7"],
            "metadata.example.com": ["169.254.169.254"],
            "partner.internal.example": ["10.9.9.9"],
            "lab.example.com": ["10.20.3.4"],
            "v6.example.com": ["::ffff:127.0.0.1"],
            "2130706433": ["127.0.0.1"],
        }
    ),
).with_hub((("hub.example.com", 443),))


def refused(policy: WebhookPolicy, url: str) -> str:
    with pytest.raises(WebhookUrlRefused) as caught:
        policy.check(url)
    assert caught.value.msg is Msg.WEBHOOK_URL_REFUSED
    assert caught.value.help.startswith("$.callbackURL: ")
    return caught.value.reason


def test_loopback_and_private_webhooks_are_fine_in_the_test_configuration() -> None:
    for url in (
        "http://127.0.0.1:9001/webhook",
        "https://localhost:9443/hook",
        "http://10.1.2.3/x",
        "http://[::1]:81/",
    ):
        assert TEST.check(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9001/hook\r\nX-Injected: 1",
        "http://127.0.0.1:9001/hook%0d%0aX-Injected:%201",
        "http://127.0.0.1:9001/hook%250d%250aX: 1",
        "http://127.0.0.1:9001/ho ok",
        "http://127.0.0.1:9001/hook\tx",
        "http://127.0.0.1:9001\\@evil/",
    ],
)
def test_header_injection_is_refused(url: str) -> None:
    reason = refused(TEST, url)
    assert "header injection" in reason or "backslash" in reason


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9001/webhook/../admin",
        "http://127.0.0.1:9001/webhook/./x",
        "http://127.0.0.1:9001/webhook/%2e%2e/admin",
        "http://127.0.0.1:9001/webhook/%2E%2E/admin",
        "http://127.0.0.1:9001/webhook/%252e%252e/admin",
        "http://127.0.0.1:9001/webhook/..%2fadmin",
        "http://127.0.0.1:9001/webhook%00.json",
    ],
)
def test_path_traversal_is_refused(url: str) -> None:
    assert "path traversal" in refused(TEST, url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://127.0.0.1/x", "https://"),
        ("http://user:secret@127.0.0.1:9001/x", "credentials"),
        ("http:///nohost", "host"),
        ("http://127.0.0.1:9001/x#frag", "fragment"),
        ("http://127.0.0.1:99999/x", "not a valid URL"),
        ("http://127.0.0.1:8000/dip-channel/IF-043", "hub itself"),
        ("http://localhost:8000/anything", "hub itself"),
        ("http://[::1]:8000/anything", "hub itself"),
    ],
)
def test_malformed_and_self_pointing_urls_are_refused(url: str, words: str) -> None:
    assert words in refused(TEST, url)


def test_the_hub_on_another_port_is_a_different_service() -> None:
    assert TEST.check("http://127.0.0.1:8001/webhook")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.com/dip", "https in production"),
        ("https://127.0.0.1/hook", "private, loopback"),
        ("https://10.0.0.1/hook", "private, loopback"),
        ("https://172.16.5.5/hook", "private, loopback"),
        ("https://192.168.1.1/hook", "private, loopback"),
        ("https://100.64.0.1/hook", "private, loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hook", "private, loopback"),
        ("https://[fd00::1]/hook", "private, loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private, loopback"),
        ("https://0.0.0.0/hook", "private, loopback"),
        ("https://224.0.0.1/hook", "private, loopback"),
        ("https://2130706433/hook", "private, loopback"),
        ("https://metadata.example.com/hook", "169.254.169.254"),
        ("https://sneaky.example.com/hook", "10.0.0.7"),
        ("https://v6.example.com/hook", "127.0.0.1"),
        ("https://localhost/hook", "local name"),
        ("https://printer.local/hook", "local name"),
        ("https://nowhere.example.com/hook", "does not resolve"),
        ("https://hub.example.com/hook", "hub itself"),
    ],
)
def test_production_refuses_private_ranges_and_the_hub(url: str, words: str) -> None:
    assert words in refused(PRODUCTION, url)


def test_production_accepts_public_hosts_and_the_allow_list() -> None:
    for url in (
        "https://hooks.example.com/dip/webhook",
        "https://partner.internal.example/hook",
        "https://lab.example.com:8443/hook",
        "https://10.20.9.9/hook",
    ):
        assert PRODUCTION.check(url) == url


def test_connect_time_check_catches_dns_rebinding() -> None:
    assert PRODUCTION.address_allowed("hooks.example.com", "93.184.216.34", 443)
    assert not PRODUCTION.address_allowed("hooks.example.com", "10.0.0.5", 443)
    assert not PRODUCTION.address_allowed("hooks.example.com", "169.254.169.254", 443)
    assert PRODUCTION.address_allowed("partner.internal.example", "10.9.9.9", 443)
    assert PRODUCTION.address_allowed("lab.example.com", "10.20.1.1", 443)
    assert TEST.address_allowed("whatever", "127.0.0.1", 9001)
    assert not TEST.address_allowed("whatever", "127.0.0.1", 8000)
