"""The hub under hostile clients (issue 16): slow and silent sockets, then memory under sustained hostile traffic.

`slow`: 200 connections that send nothing, 200 that dribble their headers and
100 that dribble a body, against `opendip up` with its read deadlines; measured:
how long until the hub has let every one go, and a well-behaved client's
/healthz latency during the attack as a ratio of the same latency measured
just before it (same run).

`memory --minutes N`: N minutes of rounds of hostile probes (bench/hostile_probes.py:
bad input, authentication, admin and portal, webhooks, resilience) alongside a
valid send; each answer counted right, wrong or 5xx per probe; the hub's RSS is
sampled every 5 s and the least-squares slope reported in MB per hour, over the
whole run and after the warm-up; the hub writes its own breakdown (malloc,
SQLite, Python blocks, gc-tracked objects by type) each minute.

    nice -n 19 .venv/bin/python bench/bench_hostile.py slow|memory [--minutes 60] [--pace 1]
        [--store sqlite|postgresql] [--warmup 10] [--keep DIR] [--append]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import MessageFactory, database, free_port, spawn, stop, wait_http  # noqa: E402
from harness import OPENDIP, register_cast  # noqa: E402
from hostile_probes import PROBES, Context, Probe  # noqa: E402

from opendip.messages.client import Credentials, DipClient  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
HEAD, BODY = 2.0, 4.0  # the hub's read deadlines in this bench (defaults are 10 s and 60 s)
OPERATOR_TOKEN = "bench-operator-token-0123456789"


def start_hub(work: Path, url: str) -> tuple[str, int, Credentials]:
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
    base, port, creds = start_hub(work, f"sqlite:///{work / 'hub.db'}")
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


def _env(work: Path, url: str = "") -> dict[str, str]:
    return {
        "OPENDIP_DATA_DIR": str(work / "data"),
        "OPENDIP_DATABASE_URL": url or f"sqlite:///{work / 'hub.db'}",
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


@dataclass
class Tally:
    """One probe's answers over the run."""

    tried: int = 0
    right: int = 0
    server_errors: int = 0
    no_answer: int = 0
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def wrong(self) -> int:
        return self.tried - self.right - self.server_errors - self.no_answer

    def add(self, probe: Probe, status: int | None) -> None:
        self.tried += 1
        if status is None or status == 0:
            self.no_answer += 1
            return
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors += 1
        elif status in probe.right:
            self.right += 1


def _slope(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return float("nan")
    return statistics.linear_regression([h for h, _ in samples], [m for _, m in samples]).slope


def memory(work: Path, minutes: float, pace: float, store: str, warmup: float, keep: Path | None) -> list[str]:
    with database(store, work, "hostile") as url:
        base, port, creds = start_hub(work, url)
        args = [OPENDIP, "up", "--port", str(port)]
        figures = work / "memory"  # the hub's own breakdown each minute (opendip.ops.memtrace, no tracing)
        traced = {"OPENDIP_TRACEMALLOC_DIR": str(figures), "OPENDIP_TRACEMALLOC_FRAMES": "0"}
        env = traced | dict(os.environ) | _env(work, url)
        with server(args, base + "/readyz", work / "hub.log", env) as pid:
            samples, loads, tallies, rounds = _run(base, port, creds, pid, minutes, pace)
        breakdown = _breakdown(figures / "memory.jsonl")
        log = (work / "hub.log").read_text(errors="replace").splitlines()
        errors = [n for n, line in enumerate(log) if "Traceback" in line]
        for n in errors[:3]:  # the first few, in full, for whoever reads the bench's output
            print("\n".join(log[max(0, n - 3) : n + 40]), flush=True)
        if keep is not None:  # the hub's log and its own memory figures, kept past the temporary directory
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(work / "hub.log", keep / f"hub-{store}.log")
            shutil.copy(figures / "memory.jsonl", keep / f"memory-{store}.jsonl")
    return _report(minutes, pace, store, warmup, samples, loads, tallies, rounds, breakdown, len(errors))


def _run(
    base: str, port: int, creds: Credentials, pid: int, minutes: float, pace: float
) -> tuple[list[tuple[float, float]], list[float], dict[str, Tally], int]:
    samples: list[tuple[float, float]] = []
    loads: list[float] = []
    tallies = {probe.name: Tally() for probe in PROBES}
    finished = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not finished.wait(5):
            samples.append(((time.monotonic() - started) / 3600, rss_mb(pid)))
            loads.append(os.getloadavg()[0])
            if len(samples) % 12 == 0:  # a progress line a minute, for whoever watches the log
                print(
                    f"minute {len(samples) // 12}: rounds {rounds}, RSS {samples[-1][1]:.1f} MB, load {loads[-1]:.1f}",
                    flush=True,
                )

    rounds = 0
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    end = started + minutes * 60
    with DipClient(base, creds, timeout=60) as client:
        ctx = Context(client, MessageFactory(), random.Random(16), base, port, OPERATOR_TOKEN)
        while time.monotonic() < end:
            begun = time.monotonic()
            for probe in PROBES:
                try:
                    status: int | None = probe.send(ctx)
                except (httpx.HTTPError, OSError):
                    status = None
                tallies[probe.name].add(probe, status)
            rounds += 1
            time.sleep(max(0.0, pace - (time.monotonic() - begun)))  # a shared machine: bounded CPU
    finished.set()
    sampler.join(10)
    return samples, loads, tallies, rounds


def _report(
    minutes: float,
    pace: float,
    store: str,
    warmup: float,
    samples: list[tuple[float, float]],
    loads: list[float],
    tallies: dict[str, Tally],
    rounds: int,
    breakdown: list[str],
    tracebacks: int,
) -> list[str]:
    mbs = [m for _, m in samples]
    half = len(mbs) // 2
    settled = [(h, m) for h, m in samples if h * 60 >= warmup]
    categories: dict[str, Tally] = {}
    for probe in PROBES:
        one, total = tallies[probe.name], categories.setdefault(probe.category, Tally())
        total.tried += one.tried
        total.right += one.right
        total.server_errors += one.server_errors
        total.no_answer += one.no_answer
        total.statuses.update(one.statuses)
    tried = sum(t.tried for t in tallies.values())
    return [
        f"## Security: memory under hostile traffic ({store}; {minutes:g} minutes)",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `nice -n 19 bench/bench_hostile.py memory --minutes "
        f"{minutes:g} --pace {pace:g} --store {store}`; `opendip up` (one process, back-pressure off), {rounds:,} "
        f"rounds of {len(PROBES)} probes ({tried:,} requests), at most one round per {pace:g} s; RSS and the "
        f"machine's 1-minute load average sampled every 5 s (load: min {min(loads):.1f}, median "
        f"{statistics.median(loads):.1f}, max {max(loads):.1f} on 2 cores).",
        "",
        "| samples | RSS first / median first half / median second half / last MB | slope MB/h, whole run "
        f"| slope MB/h after minute {warmup:g} | hub log tracebacks |",
        "|---|---|---|---|---|",
        f"| {len(mbs)} | {mbs[0]:.1f} / {statistics.median(mbs[:half]):.1f} / {statistics.median(mbs[half:]):.1f} "
        f"/ {mbs[-1]:.1f} | {_slope(samples):+.1f} | {_slope(settled):+.1f} | {tracebacks} |",
        "",
        "| category | tried | right | wrong | 5xx | no answer |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {t.tried:,} | {t.right:,} | {t.wrong:,} | {t.server_errors:,} | {t.no_answer:,} |"
            for name, t in categories.items()
        ),
        "",
        "| probe | category | right answers | answered |",
        "|---|---|---|---|",
        *(
            f"| {probe.name} | {probe.category} | {', '.join(map(str, sorted(probe.right)))} | "
            + ", ".join(f"{code}: {n:,}" for code, n in sorted(tallies[probe.name].statuses.items()))
            + (f", none: {tallies[probe.name].no_answer:,}" if tallies[probe.name].no_answer else "")
            + " |"
            for probe in PROBES
        ),
        "",
        *breakdown,
    ]


PARTS = (  # memory.jsonl's figures, as the hub measured them from inside (opendip.ops.memtrace)
    ("RssAnon", "anonymous RSS, MB"),
    ("malloc_in_use", "malloc in use, MB (SQLite, Rust, C buffers, large Python objects)"),
    ("sqlite", "of it SQLite (page caches, statements), MB"),
    ("malloc_free_held", "malloc free but held, MB"),
    ("python_blocks", "Python object blocks"),
    ("gc_objects", "gc-tracked Python objects"),
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
            spec = ",.0f" if key.startswith(("python", "gc")) else ".1f"  # counts, or MB
            shown = [format(v, spec) for v in values]
            halves = f"{format(values[1] - values[0], '+' + spec)} / {format(values[2] - values[1], '+' + spec)}"
            rows.append(f"| {label} | " + " | ".join(shown) + f" | {halves} |")
    before, after = Counter(first.get("gc_types", {})), Counter(last.get("gc_types", {}))
    grown = sorted(set(before) | set(after), key=lambda name: after[name] - before[name], reverse=True)[:8]
    if grown:
        changes = ", ".join(f"{name} {before[name]:,} -> {after[name]:,}" for name in grown)
        rows += ["", f"gc-tracked objects by type, the most grown from minute {minutes[0]:.0f} to the end: {changes}."]
    return [*rows, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("slow", "memory"))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pace", type=float, default=0.0, help="least seconds per round (0: back to back)")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--warmup", type=float, default=10.0, help="minutes left out of the settled slope")
    parser.add_argument("--keep", type=Path, help="copy the hub's log and memory figures into this directory")
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lines = (
            slow(work)
            if args.mode == "slow"
            else memory(work, args.minutes, args.pace, args.store, args.warmup, args.keep)
        )
    text = "\n".join(lines)
    print(text)
    if args.append:
        with RESULTS.open("a") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
