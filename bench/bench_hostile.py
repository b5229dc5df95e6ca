"""The hub under hostile clients (issue 16): slow and silent sockets, then memory under sustained hostile traffic.

`slow`: 200 connections that send nothing, 200 that dribble their headers and
100 that dribble a body, against `opendip up` with its read deadlines; measured:
how long until the hub has let every one go, and a well-behaved client's
/healthz latency during the attack as a ratio of the same latency measured
just before it (same run).

`memory --minutes N`: N minutes of a hostile mix (malformed JSON, deep nesting,
unknown keys, bad and replayed signatures, huge declared bodies, unknown API
keys, portal queries with odd digits) alongside valid sends; the hub's RSS is
sampled every 5 s and the least-squares slope reported in MB per hour.

    .venv/bin/python bench/bench_hostile.py slow|memory [--minutes 10] [--pace 0.5] [--append]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import MessageFactory, free_port, spawn, stop, wait_http  # noqa: E402
from harness import OPENDIP, register_cast  # noqa: E402

from opendip.messages.client import Credentials, DipClient  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
HEAD, BODY = 2.0, 4.0  # the hub's read deadlines in this bench (defaults are 10 s and 60 s)
OPERATOR_TOKEN = "bench-operator-token-0123456789"
ROUND = 18  # requests in one hostile round
CERTIFICATE = "X-DIP-Signature-Certificate"


def start_hub(work: Path) -> tuple[str, int, Credentials]:
    url = f"sqlite:///{work / 'hub.db'}"
    creds = register_cast(work / "data", url, None)
    port = free_port()
    return f"http://127.0.0.1:{port}", port, Credentials.load(creds)


@contextmanager
def server(args: list[str], ready_url: str, log: Path, env: dict[str, str]) -> Iterator[int]:
    """The hub as a child process, waited for generously: on a shared machine start-up can take minutes."""
    process = spawn(args, log, env)
    try:
        wait_http(ready_url, process, log, timeout=300)
        yield process.pid
    finally:
        stop(process)


def healthz_ms(base: str, count: int) -> float:
    samples = []
    with httpx.Client(timeout=60) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get(base + "/healthz")
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def slow(work: Path) -> list[str]:
    base, port, creds = start_hub(work)
    args = [OPENDIP, "up", "--port", str(port)]
    with server(args, base + "/readyz", work / "hub.log", dict(os.environ) | _env(work)):
        before = healthz_ms(base, 50)
        head = b"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-Padding: " + b"a" * 8192
        body = (
            f"POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nX-API-Key: {creds.api_key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n["
        ).encode()
        groups: dict[str, list[socket.socket]] = {"idle": [], "headers": [], "body": []}
        started = time.monotonic()
        partial = head[: head.index(b"X-Padding: ") + 11]  # the dribble then extends this header's value
        for kind, count, first in (("idle", 200, b""), ("headers", 200, partial), ("body", 100, body)):
            for _ in range(count):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                if first:
                    sock.sendall(first)
                sock.setblocking(False)
                groups[kind].append(sock)
        during = healthz_ms(base, 50)
        closed_after: dict[str, float] = {}
        deadline = time.monotonic() + 300
        while any(groups.values()) and time.monotonic() < deadline:
            for kind, group in groups.items():
                for sock in list(group):
                    try:
                        if kind != "idle":
                            sock.send(b"a")  # a byte per round per socket, extending a header or the body
                        if sock.recv(65536) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        continue
                    except OSError:
                        group.remove(sock)
                        sock.close()
                if not group and kind not in closed_after:
                    closed_after[kind] = time.monotonic() - started
            time.sleep(0.25)
        left = {kind: len(group) for kind, group in groups.items()}
    return [
        "## Slow and silent clients: read deadlines (issue 16, finding 11)",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/bench_hostile.py slow`; `opendip up` (SQLite) with "
        f"head deadline {HEAD:g} s and body deadline {BODY:g} s (defaults 10 s / 60 s), real sockets on 127.0.0.1.",
        "",
        "| connections | all let go after s | still open at 300 s |",
        "|---|---|---|",
        *(
            f"| {n} {kind} | {closed_after.get(kind, float('nan')):.1f} | {left[kind]} |"
            for kind, n in (("idle", 200), ("headers", 200), ("body", 100))
        ),
        "",
        f"A well-behaved client's /healthz median: {before:.1f} ms before, {during:.1f} ms with the 500 "
        f"connections open ({during / before:.2f}x).",
        "",
    ]


def _env(work: Path) -> dict[str, str]:
    return {
        "OPENDIP_DATA_DIR": str(work / "data"),
        "OPENDIP_DATABASE_URL": f"sqlite:///{work / 'hub.db'}",
        "OPENDIP_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD),
        "OPENDIP_HTTP_BODY_TIMEOUT_SECONDS": str(BODY),
        "OPENDIP_OPERATOR_TOKEN": OPERATOR_TOKEN,
        # no webhooks here, so valid sends pile up: back-pressure (503 MSG5003 before parsing) would soon
        # refuse every send and stop the hostile bodies from reaching the parser
        "OPENDIP_BACKPRESSURE_MAX_PENDING": "0",
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def hostile_round(client: DipClient, factory: MessageFactory, rng: random.Random, base: str) -> None:
    """One of each kind of hostile request, plus one valid send; answers are not the point, memory is."""
    http = client._http
    client.request("POST", "/dip-channel/IF-043", factory.body(1))
    deep = b'[{"payload":' + b'{"a":' * 300 + b'"x"' + b"}" * 300 + b"}]"  # past orjson's own depth limit
    client.request("POST", "/dip-channel/IF-043", deep)
    client.request("POST", "/dip-channel/IF-043", b"[{" + os.urandom(200).hex().encode())
    unknown = {f"k{rng.randrange(10**9)}": "v" for _ in range(300)}
    client.request("POST", "/dip-channel/IF-043", orjson.dumps([{"payload": unknown}]))
    signed = client._signer.headers("POST", base + "/statusmessage", b"[]")
    for _ in range(2):  # the second is a replay
        http.post(base + "/statusmessage", content=b"[]", headers={**signed, "X-API-Key": client.credentials.api_key})
    http.post(base + "/dip-channel/IF-043", content=b"[]", headers={"X-API-Key": os.urandom(16).hex()})
    http.post(
        base + "/dip-channel/IF-043",
        content=b"[]",
        headers={"X-API-Key": client.credentials.api_key, "X-DIP-Signature-Certificate": os.urandom(900).hex()},
    )
    http.get(base + f"/admin/audit?limit=\u0661{rng.randrange(10**6)}")
    http.get(base + f"/portal/messages?page={'9' * rng.randrange(1, 60)}&q={os.urandom(40).hex()}")
    http.get(base + f"/journal?transactionID={os.urandom(30).hex()}")
    # the classes the fuzz found faults in (issue 16, finding 15): NUL, the calendar's ends, forged cursors
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    http.get(base + f"/admin/participants/{rng.randrange(10**6)}%00/keys", headers=operator)
    client.request(
        "POST", "/dip-channel/IF-043", b'[{"payload": {"k\\u0000": "' + os.urandom(8).hex().encode() + b'"}}]'
    )
    http.get(base + "/portal/messages?to=9999-12-31T23:59:59-14:00", headers=operator)
    http.get(base + f"/portal/journal?after={os.urandom(12).hex()}.{'A' * 22}", headers=operator)
    odd_hash = {**client._signer.headers("POST", base + "/validate/IF-043/ConnectionTypeChange", b"[]")}
    odd_hash["X-DIP-Content-Hash"] = "\u00e7" * rng.randrange(1, 40)
    http.post(base + "/validate/IF-043/ConnectionTypeChange", content=b"[]", headers=_latin1(odd_hash))
    # the caches keyed by client text (issue 16): a long distinct unknown key, a padded public certificate
    long_key = {f"{rng.randrange(10**9)}{'k' * 20_000}": "v"}
    client.request("POST", "/dip-channel/IF-043", orjson.dumps([{"payload": long_key}]))
    padded = client._signer.headers("POST", base + "/validate/IF-043/ConnectionTypeChange", b"[]")
    pem = base64.b64decode(padded[CERTIFICATE])
    padded[CERTIFICATE] = base64.b64encode(b"\n" * rng.randrange(20_000, 40_000) + pem).decode()
    http.post(
        base + "/validate/IF-043/ConnectionTypeChange",
        content=b"[]",
        headers={**padded, "X-API-Key": client.credentials.api_key, "Content-Type": "application/json"},
    )


def _latin1(headers: dict[str, str]) -> dict[str, bytes]:
    return {name: value.encode("latin-1") for name, value in headers.items()}


def memory(work: Path, minutes: float, pace: float = 0.0) -> list[str]:
    base, port, creds = start_hub(work)
    args = [OPENDIP, "up", "--port", str(port)]
    samples: list[tuple[float, float]] = []
    rounds = 0
    figures = work / "memory"  # the hub's own breakdown each minute (opendip.ops.memtrace, no tracing)
    traced = {"OPENDIP_TRACEMALLOC_DIR": str(figures), "OPENDIP_TRACEMALLOC_FRAMES": "0"}
    with server(args, base + "/readyz", work / "hub.log", traced | dict(os.environ) | _env(work)) as pid:
        factory = MessageFactory()
        rng = random.Random(16)
        stop = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            while not stop.wait(5):
                samples.append(((time.monotonic() - started) / 3600, rss_mb(pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        end = time.monotonic() + minutes * 60
        statuses: Counter[int] = Counter()
        with DipClient(base, creds, timeout=60) as client:
            client._http.event_hooks["response"] = [lambda answer: statuses.update([answer.status_code])]
            while time.monotonic() < end:
                started = time.monotonic()
                hostile_round(client, factory, rng, base)
                rounds += 1
                time.sleep(max(0.0, pace - (time.monotonic() - started)))  # a shared machine: bounded CPU
        stop.set()
        sampler.join(10)
    breakdown = _breakdown(figures / "memory.jsonl")
    hours = [h for h, _ in samples]
    mbs = [m for _, m in samples]
    slope = statistics.linear_regression(hours, mbs).slope if len(samples) > 2 else float("nan")
    half = len(mbs) // 2
    return [
        f"## Security: memory under hostile traffic (issue 16; {minutes:g} minutes, the issue asks for an hour)",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/bench_hostile.py memory --minutes {minutes:g} "
        f"--pace {pace:g}`; "
        f"`opendip up` (SQLite, one process), {rounds:,} rounds of {ROUND} requests each, at most one round per "
        f"{pace:g} s (one valid send; malformed, deeply nested, 300-unknown-key, replayed, unknown-key, "
        "bad-certificate, odd-digit, huge-page-number and random-lookup requests; NUL in a URL and in a body, "
        "calendar-end portal bounds, forged page cursors, non-ASCII content hashes; a 20,000-character unknown key "
        "and a padded certificate header, distinct each round), RSS sampled every 5 s on a "
        "shared 2-core machine.",
        "",
        "| minutes | samples | RSS first / median first half / median second half / last MB | slope MB per hour "
        "| answers / 5xx |",
        "|---|---|---|---|---|",
        f"| {minutes:g} | {len(mbs)} | {mbs[0]:.1f} / {statistics.median(mbs[:half]):.1f} / "
        f"{statistics.median(mbs[half:]):.1f} / {mbs[-1]:.1f} | {slope:+.1f} "
        f"| {sum(statuses.values()):,} / {sum(n for code, n in statuses.items() if code >= 500)} |",
        "",
        "Answers by status: " + ", ".join(f"{code}: {n:,}" for code, n in sorted(statuses.items())) + ".",
        "",
        *breakdown,
    ]


PARTS = (  # memory.jsonl's figures, as the hub measured them from inside (opendip.ops.memtrace)
    ("RssAnon", "anonymous RSS, MB"),
    ("malloc_in_use", "malloc in use, MB (SQLite, Rust, C buffers, large Python objects)"),
    ("sqlite", "of it SQLite (page caches, statements), MB"),
    ("malloc_free_held", "malloc free but held, MB"),
    ("python_blocks", "Python object blocks"),
)


def _breakdown(path: Path) -> list[str]:
    """The hub's own figures at the first minute under traffic, half-way and at the end, as a table."""
    if not path.exists():
        return []
    lines = [orjson.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 4:
        return []
    first, middle, last = lines[1], lines[len(lines) // 2], lines[-1]
    minutes = [(line["time"] - lines[0]["time"]) / 60 for line in (first, middle, last)]
    rows = [
        "| inside the hub | " + " | ".join(f"minute {m:.0f}" for m in minutes) + " | first half / second half |",
        "|---|---|---|---|---|",
    ]
    for key, label in PARTS:
        if key in last:
            values = [line.get(key, float("nan")) for line in (first, middle, last)]
            shown = [f"{v:,.0f}" if key == "python_blocks" else f"{v:.1f}" for v in values]
            halves = f"{values[1] - values[0]:+,.1f} / {values[2] - values[1]:+,.1f}"
            rows.append(f"| {label} | " + " | ".join(shown) + f" | {halves} |")
    return [*rows, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("slow", "memory"))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pace", type=float, default=0.0, help="least seconds per round (0: back to back)")
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lines = slow(Path(tmp)) if args.mode == "slow" else memory(Path(tmp), args.minutes, args.pace)
    text = "\n".join(lines)
    print(text)
    if args.append:
        with RESULTS.open("a") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
