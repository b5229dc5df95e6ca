"""Slow and silent clients (issue 16, finding 11): real sockets that connect and send nothing, dribble their
headers, or dribble their body are answered 408 (MSG4008) or let go, while other clients are served."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.e2e.conftest import REGS
from tests.helpers.hub import HubProcess
from tests.participants.hubs import DB_KINDS, hub_on

HEAD_TIMEOUT, BODY_TIMEOUT = 1.0, 2.0
SETTINGS = {
    "OPENDIP_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
    "OPENDIP_HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
}


@pytest.fixture(scope="module", params=DB_KINDS)
def slow_hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HubProcess, str]]:
    with hub_on(request.param, tmp_path_factory.mktemp(f"slow-{request.param}"), SETTINGS) as hub:
        key = hub.add(REGS, "REGS").api_key
        hub.start()
        yield hub, key


class Dribbler:
    """Sends one byte on every open socket each tick, as a slowloris client does, until the hub closes it."""

    def __init__(self, sockets: dict[str, list[socket.socket]], payloads: dict[str, bytes]) -> None:
        self.sockets, self.payloads = sockets, payloads
        self.answers: dict[str, list[bytes]] = {kind: [] for kind in sockets}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        offset = 0
        while not self._stop.wait(0.2):
            for kind, group in self.sockets.items():
                payload = self.payloads.get(kind, b"")
                for sock in list(group):
                    try:
                        if payload:
                            sock.send(payload[offset % len(payload) : offset % len(payload) + 1])
                    except OSError:
                        pass
            offset += 1

    def closed(self) -> bool:
        """Read what the hub said on every socket; true once the hub has closed them all."""
        for kind, group in self.sockets.items():
            for sock in list(group):
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    self.answers[kind].append(data)
                    continue
                group.remove(sock)
                sock.close()
        return not any(self.sockets.values())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for group in self.sockets.values():
            for sock in group:
                sock.close()


def connect(hub: HubProcess, first: bytes = b"") -> socket.socket:
    host, port = hub.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    if first:
        sock.sendall(first)
    sock.setblocking(False)
    return sock


def test_silent_and_slow_clients_are_let_go_while_others_are_served(slow_hub: tuple[HubProcess, str]) -> None:
    hub, key = slow_hub
    slow_head = b"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-Padding: " + b"a" * 4096
    body_head = (
        f"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-API-Key: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
    ).encode()
    form_head = (
        b"POST /login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100000\r\n\r\nusername="
    )
    sockets = {
        "idle": [connect(hub) for _ in range(40)],
        "head": [connect(hub, slow_head[:40]) for _ in range(40)],
        "body": [connect(hub, body_head) for _ in range(20)],
        "form": [connect(hub, form_head) for _ in range(10)],
    }
    dribbler = Dribbler(sockets, {"head": slow_head[40:], "body": b"{" * 100, "form": b"a" * 100})
    try:
        served = httpx.get(hub.base_url + "/healthz", timeout=30)
        assert served.status_code == 200, "a well-behaved client is served while the slow ones wait"
        deadline = time.monotonic() + 120
        while not dribbler.closed():
            assert time.monotonic() < deadline, {kind: len(group) for kind, group in sockets.items()}
            time.sleep(0.1)
    finally:
        dribbler.stop()
    for kind in ("idle", "head"):
        answers = dribbler.answers[kind]
        assert len(answers) == 40 and all(a.startswith(b"HTTP/1.1 408 ") and b"MSG4008" in a for a in answers), (
            kind,
            answers[:2],
        )
    body_answers = b"".join(dribbler.answers["body"])
    assert body_answers.count(b"HTTP/1.1 408 ") == 20 and body_answers.count(b"MSG4008 - Request Timeout") == 20
    assert httpx.get(hub.base_url + "/healthz", timeout=30).status_code == 200


def _read_until(sock: socket.socket, done: Callable[[bytes], bool]) -> bytes:
    """What the hub sends until `done` holds or it closes the socket (a reset counts as closed)."""
    received = b""
    while not done(received):
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        received += chunk
    return received


def test_a_slow_body_gets_408_with_connection_close_and_the_connection_serves_nothing_more(
    slow_hub: tuple[HubProcess, str],
) -> None:
    """After the 408 the hub stops reading: the rest of the body and a pipelined request behind it get no answer
    (a kept-alive connection would read on and answer it 200), and the socket is closed."""
    hub, key = slow_hub
    head = (
        f"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-API-Key: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 64\r\n\r\n["
    ).encode()
    host, port = hub.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as sock:  # the generous deadline
        sock.sendall(head)
        answer = _read_until(sock, lambda got: b"\r\n\r\n" in got and b"MSG4008" in got)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"MSG4008 - Request Timeout" in answer, answer
        assert b"\r\nconnection: close\r\n" in answer.lower(), answer
        with contextlib.suppress(OSError):  # already closed, as it should be
            sock.sendall(b" " * 63 + b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        rest = _read_until(sock, lambda _: False)  # returns once the hub has closed the socket
    assert b"HTTP/1.1 200" not in rest, rest
