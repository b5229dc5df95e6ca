"""The webhook URL guard: what the hub may be told to POST to.

A callback URL is an instruction to make the hub send requests, so it is the
classic server-side request forgery lever. Every mode refuses URLs that
could smuggle headers or paths (control characters, backslashes, '..'
segments however encoded, credentials) and URLs that point back at the hub.
Production mode also requires https and refuses every address that is not
globally routable (loopback, private, link-local such as cloud metadata,
CGNAT, multicast, reserved), checked on every address the name resolves to,
unless an operator allow-lists the host or its network. The default test
configuration keeps loopback and private addresses, where simulated
participants live. Link-local addresses and the cloud metadata services are
refused in every mode: no simulated participant lives there, and a webhook
there would read the machine's own credentials.

Hosts are normalised before any rule applies: every spelling the C library
accepts for an IPv4 address (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`)
is that address, and the unspecified addresses (0.0.0.0, ::) reach this very
machine, so they count as loopback.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from opendip.errors import DipError, Msg

MAX_URL_LENGTH = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class WebhookUrlRefused(DipError):
    def __init__(self, reason: str, path: str = "$.callbackURL") -> None:
        super().__init__(Msg.WEBHOOK_URL_REFUSED, f"{path}: {reason}")
        self.reason = reason


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(network)
    for network in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32", "192.0.0.192/32")
)
"""Link-local (where the cloud metadata services answer) and the providers' other metadata addresses."""
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")


def address_of(text: str) -> IpAddress | None:
    """`text` as an IP address in any spelling a connect() would accept, or None for a name."""
    text = text.strip("[]").split("%", 1)[0].rstrip(".").lower()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _NUMERIC_HOST.fullmatch(text) or not text[:1].isdigit():
            return None
        try:  # inet_aton's legacy forms: 127.1, 2130706433, 0x7f000001, 0177.0.0.1
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _local(address: IpAddress) -> bool:
    """Loopback, or unspecified (connecting to 0.0.0.0 or :: reaches this machine)."""
    return address.is_loopback or address.is_unspecified


def always_refused(address: IpAddress) -> bool:
    return any(address.version == network.version and address in network for network in ALWAYS_REFUSED)


def is_public(address: IpAddress) -> bool:
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


@dataclass(frozen=True)
class WebhookPolicy:
    production: bool = False
    allow: tuple[str, ...] = ()
    hub_endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    """(host, port) pairs the hub answers on; a webhook there would deliver to ourselves."""
    resolver: Resolver = system_resolver

    def with_hub(self, endpoints: Iterable[tuple[str, int]]) -> WebhookPolicy:
        known = {(h.lower().strip("[]"), p) for h, p in endpoints}
        return WebhookPolicy(self.production, self.allow, self.hub_endpoints | known, self.resolver)

    def check(self, url: object, path: str = "$.callbackURL") -> str:
        """The URL unchanged if the hub may call it; WebhookUrlRefused naming the rule otherwise."""
        if not isinstance(url, str):
            raise WebhookUrlRefused("must be a string", path)
        if len(url) > MAX_URL_LENGTH:
            raise WebhookUrlRefused(f"longer than {MAX_URL_LENGTH} characters", path)
        if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url) or "\\" in url:
            raise WebhookUrlRefused(
                "control characters, spaces and backslashes are not allowed (header injection)", path
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise WebhookUrlRefused(f"not a valid URL: {exc}", path) from None
        if parts.scheme not in ("http", "https"):
            raise WebhookUrlRefused("must start with https:// (or http:// in a test environment)", path)
        if self.production and parts.scheme != "https":
            raise WebhookUrlRefused("must use https in production", path)
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise WebhookUrlRefused("must not carry credentials (user:password@)", path)
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise WebhookUrlRefused("must name a host", path)
        if parts.fragment:
            raise WebhookUrlRefused("must not have a #fragment", path)
        _check_path(parts.path, path)
        port = port or (443 if parts.scheme == "https" else 80)
        self._check_target(host, port, path)
        return url

    def _check_target(self, host: str, port: int, path: str) -> None:
        literal = address_of(host)
        if self._is_hub(host, port, literal):
            raise WebhookUrlRefused("points at this hub itself", path)
        if host in METADATA_NAMES or (literal is not None and always_refused(literal)):
            raise WebhookUrlRefused(f"{host} is link-local or a cloud metadata service, refused in every mode", path)
        if not self.production or self._allowed_name(host):
            return
        if literal is None and (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))):
            raise WebhookUrlRefused(f"{host} is a local name, refused in production", path)
        try:
            addresses = [literal] if literal is not None else [address_of(a) for a in self.resolver(host, port)]
        except OSError as exc:
            raise WebhookUrlRefused(f"{host} does not resolve: {exc}", path) from None
        for address in addresses:
            if address is None:
                raise WebhookUrlRefused(f"{host} resolves to something that is not an IP address", path)
            if self._is_hub(str(address), port, address) or always_refused(address):
                raise WebhookUrlRefused(f"{host} resolves to {address}, this hub or a link-local address", path)
            if not is_public(address) and not self._allowed_address(address):
                raise WebhookUrlRefused(
                    f"{host} resolves to {address}, a private, loopback, link-local or reserved address; "
                    "ask the operator to allow-list it (OPENDIP_WEBHOOK_ALLOW_HOSTS)",
                    path,
                )

    def address_allowed(self, host: str, address_text: str, port: int) -> bool:
        """At connect time: may the hub open a connection to `address_text`, which `host` resolved to?

        The same rule as `check`, applied again to the address actually used,
        so a name that resolved to a public address when the webhook was set
        and to a private one now (DNS rebinding) is still refused.
        """
        address = address_of(address_text)
        if address is None or self._is_hub(address_text, port, address) or always_refused(address):
            return False
        if host.lower().rstrip(".") in METADATA_NAMES:
            return False
        if not self.production or self._allowed_name(host.lower()):
            return True
        return is_public(address) or self._allowed_address(address)

    def _is_hub(self, host: str, port: int, literal: IpAddress | None) -> bool:
        """Same port, and the same host: by name, by address, or both loopback (or the hub on 0.0.0.0)."""
        for hub_host, hub_port in self.hub_endpoints:
            if hub_port != port:
                continue
            if host == hub_host:
                return True
            hub_literal = address_of(hub_host) if hub_host != "localhost" else ipaddress.ip_address("127.0.0.1")
            mine = literal if host != "localhost" else ipaddress.ip_address("127.0.0.1")
            if mine is None or hub_literal is None:
                continue
            if mine == hub_literal or (_local(mine) and _local(hub_literal)):
                return True
            if hub_literal.is_unspecified and not is_public(mine):
                return True
        return False

    def _allowed_name(self, host: str) -> bool:
        for entry in self.allow:
            entry = entry.strip().lower()
            if entry == host or (entry.startswith("*.") and host.endswith(entry[1:])):
                return True
        return False

    def _allowed_address(self, address: IpAddress) -> bool:
        for entry in self.allow:
            try:
                network = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                continue
            if address.version == network.version and address in network:
                return True
        return False


def _check_path(raw_path: str, path: str) -> None:
    """Refuse '.' and '..' segments, plain or percent-encoded (once or twice), and encoded separators."""
    text = raw_path
    for _ in range(3):
        lowered = text.lower()
        if "%2f" in lowered or "%5c" in lowered or "%00" in lowered:
            raise WebhookUrlRefused("encoded path separators or NUL bytes are not allowed (path traversal)", path)
        segments = text.split("/")
        if any(segment in (".", "..") for segment in segments):
            raise WebhookUrlRefused("'.' and '..' path segments are not allowed (path traversal)", path)
        decoded = unquote(text)
        if decoded == text:
            break
        if any(ord(c) < 0x21 or ord(c) == 0x7F for c in decoded):
            raise WebhookUrlRefused("encoded control characters are not allowed (header injection)", path)
        text = decoded
