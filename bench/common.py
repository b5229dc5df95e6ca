"""Shared by the benchmark's processes: the cast, message bodies, latency histograms, child processes.

Latencies are kept as log-bucketed histograms (1 % wide buckets) so that the
load generator processes can be merged exactly by adding counts.
"""

from __future__ import annotations

import math
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

BENCH_DIR = Path(__file__).resolve().parent
PYTHON = sys.executable
REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
INTERFACE = "IF-043"
SUCCESS = "MSG0000 - Success"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"

# ---------------------------------------------------------------- messages


class MessageFactory:
    """Valid IF-043 items (REGS -> SUP), each with a fresh senderUniqueReference and MPAN.

    The simulator builds one message; after that a body costs a str.format per
    message, so the load generator spends its CPU on signing and HTTP, not here.
    """

    def __init__(self) -> None:
        from opendip.simulator.examples import GSP_GROUPS, connection_type_change, mpan_core

        message = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)
        common = message["CommonBlock"]
        reference: str = common["S1"]["senderUniqueReference"]
        self._prefix = reference[: reference.rindex("-") + 1]
        self._tag = f"p{os.getpid()}r{secrets.token_hex(4)}"
        common["S1"]["senderUniqueReference"] = "@@REF@@"
        common["M0"]["MPANCore"] = "@@MPAN@@"
        common["M0"]["GSPGroupID"] = "@@GSP@@"
        text = orjson.dumps({"payload": message}).decode().replace("{", "{{").replace("}", "}}")
        for index, token in enumerate(("@@REF@@", "@@MPAN@@", "@@GSP@@")):
            text = text.replace(token, "{%d}" % index)  # noqa: UP031 - building a format string
        self._format = text
        # a distinct MPAN per message: repeated content would be flagged as duplicates (issue 6)
        self._mpan_core = mpan_core
        self._gsp = GSP_GROUPS
        self._base = (os.getpid() % 1000) * 10_000_000 + secrets.randbelow(1_000_000) * 1000
        self._seq = 0

    def item(self) -> str:
        self._seq += 1
        mpan = self._mpan_core(self._base + self._seq)
        gsp = self._gsp[int(mpan) % 14]
        return self._format.format(f"{self._prefix}{self._seq:08d}{self._tag}", mpan, gsp)

    def body(self, batch: int) -> bytes:
        return ("[" + ",".join(self.item() for _ in range(batch)) + "]").encode()


# ---------------------------------------------------------------- histograms

BUCKET_BASE = math.log(1.01)


def bucket_of(seconds: float) -> int:
    return int(math.log(max(seconds, 1e-6) * 1e6) / BUCKET_BASE)


def merge_histograms(histograms: Iterable[dict[str, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for key, count in histogram.items():
            merged[int(key)] = merged.get(int(key), 0) + count
    return merged


def percentile_ms(histogram: dict[int, int], fraction: float) -> float | None:
    """The upper edge (in ms) of the bucket holding the given fraction of observations."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = math.ceil(fraction * total)
    seen = 0
    for key in sorted(histogram):
        seen += histogram[key]
        if seen >= rank:
            return math.exp((key + 1) * BUCKET_BASE) / 1000.0
    return None


# ---------------------------------------------------------------- processes and databases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 300.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited {process.returncode}:\n{tail(log)}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s:\n{tail(log)}")


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    handle: IO[bytes] = log.open("ab")
    return subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def postgres_available() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_DSN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def database(kind: str, directory: Path, name: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / (name + '.db')}"
        return
    import psycopg

    schema = f"bench_{name}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def dip_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def success_response(transaction_ids: Iterable[str]) -> bytes:
    items: list[dict[str, Any]] = [{"transactionID": t, "message": "MSG0000 - Success"} for t in transaction_ids]
    return orjson.dumps({"messageArray": items, "timestamp": dip_timestamp()})
