"""The request line and headers are capped (OPENDIP_HTTP_MAX_HEAD_BYTES, 64 KB by default): a bigger head is
answered 431 (MSG4031) and the connection closed, in every serving mode: plain and TLS, all roles and the API
role. httptools, uvicorn's parser here, has no limit of its own: before the cap a 1 MB header was read and
kept. Raw sockets, so the test controls every byte of the head."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest

from tests.e2e.conftest import REGS
from tests.helpers.hub import HubProcess
from tests.participants.hubs import TlsHubProcess, hub_on

CAP = 64 * 1024


@dataclass
class Served:
    hub: HubProcess

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.hub.port), timeout=30)
        if isinstance(self.hub, TlsHubProcess):
            return self.hub.client_context().wrap_socket(sock, server_hostname="127.0.0.1")
        return sock

    def exchange(self, head: bytes) -> tuple[bytes, bool]:
        """Send `head` on a fresh connection; what the hub answered, and whether it then closed the connection."""
        with self.connect() as sock:
            with contextlib.suppress(OSError):  # the hub may refuse before it has read all of a big head
                sock.sendall(head)
            answer, closed = b"", False
            while True:
                try:
                    chunk = sock.recv(65536)
                except (TimeoutError, ssl.SSLError, ConnectionError):
                    break
                if not chunk:
                    closed = True
                    break
                answer += chunk
                if answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"}"):
                    break  # a kept-alive answer: the hub waits for the next request
        return answer, closed


def head(*headers: bytes) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: hub\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def padded(size: int) -> bytes:
    """A request whose whole head (request line, headers, blank line) is exactly `size` bytes."""
    bare = len(head(b"X-Padding: "))
    return head(b"X-Padding: " + b"a" * (size - bare))


@pytest.fixture(
    scope="module",
    params=[
        ("sqlite", "all", False),
        ("sqlite", "all", True),
        pytest.param(("postgres", "api", False), marks=pytest.mark.postgres),
    ],
    ids=["plain-all", "tls-all", "plain-api"],
)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    kind, role, tls = request.param
    with hub_on(kind, tmp_path_factory.mktemp(f"head-{kind}-{role}-{tls}"), tls=tls) as hub:
        hub.add(REGS, "REGS")  # a participant, and with it the CA a TLS client trusts
        hub.start(role=role)
        yield Served(hub)


def refused(answer: bytes, closed: bool) -> None:
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert closed, "the connection is closed after the 431"
    status, body = answer.split(b"\r\n\r\n", 1)
    assert b"connection: close" in status.lower()
    item = orjson.loads(body)["messageArray"][0]
    assert item["message"] == "MSG4031 - Request Header Fields Too Large", item
    assert "65,536 bytes" in item["help"], item


def test_a_head_just_under_the_cap_is_served(served: Served) -> None:
    answer, _ = served.exchange(padded(CAP))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_a_head_just_over_the_cap_is_answered_431_and_closed(served: Served) -> None:
    refused(*served.exchange(padded(CAP + 1)))


def test_many_small_headers_over_the_cap_are_refused_too(served: Served) -> None:
    many = head(*(b"X-Small-%05d: %s" % (n, b"v" * 20) for n in range(2500)))  # 2,500 headers of 36 bytes
    assert len(many) > CAP and max(len(line) for line in many.split(b"\r\n")) < 64
    refused(*served.exchange(many))


def test_a_megabyte_header_is_refused_unread_and_the_hub_carries_on(served: Served) -> None:
    answer, _ = served.exchange(head(b"X-Padding: " + b"a" * 1024 * 1024))
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]  # a reset may beat the answer
    ok, _ = served.exchange(padded(200))
    assert ok.startswith(b"HTTP/1.1 200 "), ok[:200]
    log = served.hub.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
