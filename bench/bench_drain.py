"""Delivery alone: CPU per delivery of `opendip up --role worker` draining a backlog (issue 17 part 2).

`opendip up --role api` (back-pressure off) first accepts `--messages` IF-043
messages (batches of 50, 16 in flight); each goes to SUP and LDSO, so the
backlog is twice as many deliveries. The API stops, then one worker process
drains the backlog to bench/receiver.py (answers 201 at once). Reported: the
worker's CPU seconds per delivery (its process, all threads, from /proc) and
the wall-clock drain rate. CPU per delivery is the figure to compare across
commits on a shared machine: throughput follows whatever CPU the neighbours
leave, CPU per delivery much less so.

    python bench/bench_drain.py [--database sqlite|postgresql] [--messages 10000] [--rounds 2] [--py-spy PREFIX]

`--py-spy PREFIX` records the worker (only the thread holding the GIL) as
collapsed stacks in PREFIX.N.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import LDSO, SUP, database
from harness import LoadSpec, Timing, hub, process_cpu, receiver, register_cast, run_load, worker

API_ONLY = {"OPENDIP_BACKPRESSURE_MAX_PENDING": "0"}
GIL = [] if os.environ.get("SPY_ALL") else ["--gil"]


def delivered(rx: str) -> int:
    stats = httpx.get(rx + "/stats", timeout=10).json()["delivered"]
    return int(stats.get(f"/hook/{SUP}", 0)) + int(stats.get(f"/hook/{LDSO}", 0))


def seed(work: Path, url: str, credentials: Path, logs: Path, messages: int) -> None:
    with hub(work, url, "api", logs, API_ONLY) as endpoint:
        accepted, empty = 0, 0
        while accepted < messages:
            load = run_load(endpoint, credentials, LoadSpec("seed", 50, 16), Timing(5.0, 0.0))
            accepted += load.messages
            empty = 0 if load.messages else empty + 1
            if empty >= 5:  # a very busy machine may answer nothing inside one window, not five
                raise RuntimeError(f"the API accepted nothing: {load.statuses}")


def one_round(kind: str, root: Path, messages: int, spy_out: str | None) -> dict[str, object]:
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with database(kind, root, "drain") as url, receiver(logs) as rx:
        credentials = register_cast(root / "hub", url, rx)
        seed(root / "hub", url, credentials, logs, messages)
        target = delivered(rx) + 2 * messages  # at least: the seed overshoots by what was in flight
        with worker(root / "hub", url, logs) as pid:
            spy = None
            if spy_out:
                spy_bin = str(Path(sys.executable).parent / "py-spy")
                command = [spy_bin, "record", *GIL, "-f", "raw", "-o", spy_out, "-r", "50", "-p", str(pid)]
                spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpu0, t0, n0 = process_cpu(pid), time.time(), delivered(rx)
            last, still = n0, time.time()
            while True:
                time.sleep(0.25)
                n = delivered(rx)
                if n != last:
                    last, still = n, time.time()
                elif n >= target and time.time() - still > 1.0:
                    break  # nothing new for a second after the target: drained
                if time.time() - still > 60:
                    raise RuntimeError(f"the drain stalled at {n - n0} deliveries")
            cpu, seconds, count = process_cpu(pid) - cpu0, still - t0, last - n0
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)
    return {
        "store": kind,
        "deliveries": count,
        "drain_s": round(seconds, 1),
        "deliveries_per_s": round(count / seconds),
        "worker_cpu_s": round(cpu, 2),
        "worker_us_per_delivery": round(cpu / count * 1e6),
        "worker_cores": round(cpu / seconds, 2),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--py-spy", help="PREFIX: record the worker with py-spy, to PREFIX.N.txt")
    args = parser.parse_args()
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="opendip-drain-") as tmp:
            spy = f"{args.py_spy}.{index + 1}.txt" if args.py_spy else None
            print(json.dumps(one_round(args.database, Path(tmp), args.messages, spy)), flush=True)


if __name__ == "__main__":
    main()
