"""Probe category "resilience": slow, silent, oversized and vanishing clients, and one heavy hostile batch while a
well-behaved client watches /healthz (its latency says whether the event loop was blocked)."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
from probe_kit import Caller, Case, Got, got, raw_exchange, raw_got
from probe_payloads import batch, message

CATEGORY = "resilience"
TIMEOUT, TOO_LARGE = "MSG4008", "MSG4031"


def cases(regs: Caller, port: int, log: Path, head_timeout: float, body_timeout: float) -> list[Case]:
    key = regs.credentials.api_key
    head = f"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-API-Key: {key}\r\nContent-Type: application/json\r\n"
    wait = max(head_timeout, body_timeout) + 20
    out = [
        Case(
            CATEGORY,
            "one 70 KB header",
            lambda: _raw(port, b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"),
            431,
            TOO_LARGE,
        ),
        Case(
            CATEGORY,
            "8,000 small headers (100 KB)",
            lambda: _raw(
                port,
                b"GET /healthz HTTP/1.1\r\nHost: h\r\n"
                + b"".join(b"X-H%04d: v\r\n" % i for i in range(8000))
                + b"\r\n",
            ),
            431,
            TOO_LARGE,
        ),
        Case(
            CATEGORY,
            "a 70 KB request line",
            lambda: _raw(port, b"GET /healthz?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: h\r\n\r\n"),
            431,
            TOO_LARGE,
        ),
        Case(
            CATEGORY,
            "a 1 MB header",
            lambda: _raw(port, b"GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"),
            431,
            TOO_LARGE,
        ),
        Case(
            CATEGORY,
            "Content-Length of a terabyte",
            lambda: _raw(port, (head + "Content-Length: 1000000000000\r\n\r\n[").encode()),
            413,
            "MSG4013",
        ),
        Case(
            CATEGORY,
            "Content-Length and chunked together",
            lambda: _raw(port, (head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").encode()),
            400,
        ),
        Case(
            CATEGORY, "negative Content-Length", lambda: _raw(port, (head + "Content-Length: -1\r\n\r\n").encode()), 400
        ),
        Case(CATEGORY, "garbage request line", lambda: _raw(port, b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n"), 400),
    ]
    slow: list[tuple[str, int, Callable[[], object]]] = [
        ("slowloris: partial headers, then silence", 20, lambda: _raw(port, head.encode()[:60], wait)),
        ("slowloris: a header byte every 0.5 s", 10, lambda: _dribble(port, head.encode() + b"X-Slow: ", wait)),
        (
            "slow body: a byte every 0.5 s",
            10,
            lambda: _dribble(port, (head + "Content-Length: 100000\r\n\r\n[").encode(), wait),
        ),
    ]
    for name, copies, send in slow:
        out.extend(Case(CATEGORY, f"{name} #{n}", send, 408, TIMEOUT, together=True) for n in range(copies))
    for n in range(10):
        out.append(Case(CATEGORY, f"idle connection #{n}", lambda: _raw(port, b"", wait), (0, 408), together=True))
    out.append(
        Case(
            CATEGORY,
            "/healthz with 300 idle connections open",
            lambda: _crowded(regs.base, port, 300),
            200,
            None,
            _fast(1.0),
        )
    )
    for n in range(5):
        out.append(Case(CATEGORY, f"client gone mid-body #{n}", lambda: _vanish(port, head, log), 499))
    watch: dict[str, float] = {}
    out.append(
        Case(
            CATEGORY, "500 messages x 400 unknown keys", lambda: _heavy(regs, watch), 400, "MSG1001", _small(1_000_000)
        )
    )
    out.append(
        Case(
            CATEGORY,
            "/healthz during that batch",
            lambda: Got(200, note=_watched(watch)),
            200,
            None,
            lambda _a: _blocked(watch),
        )
    )
    return out


def _raw(port: int, data: bytes, wait: float = 30.0) -> Got:
    return raw_got(*raw_exchange(port, data, wait=wait))


def _dribble(port: int, first: bytes, wait: float) -> Got:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(first)
        sock.settimeout(0.5)
        answer = b""
        while time.monotonic() - started < wait:
            try:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
                if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                    break
            except TimeoutError:
                try:
                    sock.sendall(b"a")
                except OSError:
                    break
            except OSError:
                break
    return raw_got(answer, time.monotonic() - started)


def _crowded(base: str, port: int, count: int) -> Got:
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        started = time.monotonic()
        answer = got(httpx.get(base + "/healthz", timeout=30))
        answer.note = f"{(time.monotonic() - started) * 1000:.0f} ms"
        return answer
    finally:
        for sock in socks:
            sock.close()


def _fast(limit: float) -> Callable[[Got], str]:
    return lambda answer: "" if float(answer.note.split()[0]) / 1000 < limit else f"took {answer.note}"


def _vanish(port: int, head: str, log: Path) -> Got:
    """Half a body, then hang up: the hub logs one INFO line and no traceback."""
    start = log.stat().st_size
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall((head + "Content-Length: 100000\r\n\r\n[").encode() + b" " * 500)
    deadline = time.monotonic() + 30
    logged = ""
    while time.monotonic() < deadline and "client disconnected" not in logged:
        time.sleep(0.1)
        with log.open("rb") as handle:
            handle.seek(start)
            logged = handle.read().decode(errors="replace")
    if "Traceback" in logged or '"level": "error"' in logged or "Exception in ASGI" in logged:
        return Got(500, note="an ERROR or traceback in the log")
    return Got(499 if "client disconnected" in logged else 0, note="" if logged else "nothing logged")


def _heavy(regs: Caller, watch: dict[str, float]) -> Got:
    payloads = []
    for _ in range(500):
        payload = message()
        payload["CommonBlock"]["S1"].update({f"unknown{k}": k for k in range(400)})
        payloads.append(payload)
    body = batch(*payloads)
    before = _healthz_samples(regs.base, 30)
    samples: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                started = time.perf_counter()
                http.get(regs.base + "/healthz")
                samples.append(time.perf_counter() - started)
                time.sleep(0.01)

    with ThreadPoolExecutor(1) as pool:
        watcher = pool.submit(poll)
        time.sleep(0.2)
        started = time.perf_counter()
        answer = regs.post("/dip-channel/IF-043", body)
        took = time.perf_counter() - started
        time.sleep(0.1)
        stop.set()
        watcher.result()
    watch.update(
        before_ms=statistics.median(before) * 1000,
        max_ms=max(samples) * 1000,
        median_ms=statistics.median(samples) * 1000,
        samples=len(samples),
        request_s=took,
        body_mb=len(body) / 1e6,
        answer_kb=answer.size / 1000,
    )
    items = orjson.loads(answer.text)["messageArray"] if answer.text.startswith("{") and answer.size < 4000 else []
    answer.note = f"answer {answer.size:,} bytes in {took:.2f} s" + (f", {len(items)} items" if items else "")
    return answer


def _healthz_samples(base: str, count: int) -> list[float]:
    samples = []
    with httpx.Client(timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get(base + "/healthz")
            samples.append(time.perf_counter() - started)
    return samples


def _small(limit: int) -> Callable[[Got], str]:
    return lambda answer: "" if answer.size < limit else f"answer of {answer.size:,} bytes"


def _watched(watch: dict[str, float]) -> str:
    if not watch:
        return "the batch did not run"
    return (
        f"/healthz median {watch['before_ms']:.1f} ms before, during: median {watch['median_ms']:.1f} ms, "
        f"max {watch['max_ms']:.0f} ms over {watch['samples']:.0f} calls while the {watch['body_mb']:.1f} MB "
        f"batch took {watch['request_s']:.2f} s"
    )


def _blocked(watch: dict[str, float]) -> str:
    """Blocked: one /healthz call waited 250 ms or more (the probe found ~900 ms before validation left the loop)."""
    return "" if watch and watch["max_ms"] < 250 else "the event loop was blocked"
