"""CPU seconds a hub start costs: `opendip up` from exec to its first 200 on /readyz, and one CLI command.

The test suite starts a few hundred hubs and CLI processes; on a shared machine their wall time moves
with the neighbours, their CPU time much less. Each start is a fresh process on a fresh data directory
(SQLite, as most tests run) whose user + system CPU is read from /proc when /readyz first answers 200.
Give two source trees to compare a change with its baseline, started in turn (A B A B ...):

    nice -n 19 python bench/bench_hub_start.py --src /tmp/base/src --src src --rounds 5

Each tree is put first on PYTHONPATH for the hub's interpreter (this venv's python and packages).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TICKS = os.sysconf("SC_CLK_TCK")
ENTRY = (  # what the tree's `opendip` script runs: its entry point where it has one, else the CLI's main
    "import sys; sys.argv[0] = 'opendip'\n"
    "try:\n    from opendip.entry import main\nexcept ImportError:\n    from opendip.cli import main\nmain()"
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (its own threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(src: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPATH=str(Path(src).resolve()),
        OPENDIP_DATA_DIR=str(data_dir),
        OPENDIP_DATABASE_URL=f"sqlite:///{data_dir / 'hub.db'}",
    )
    return env


def hub_start(src: str) -> float:
    """CPU seconds of one `opendip up` until ready (the process is then stopped)."""
    with tempfile.TemporaryDirectory(prefix="hubstart-") as tmp:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "up", "--port", str(port)],
            env=environment(src, Path(tmp)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"hub from {src} exited {process.returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                        return cpu_seconds(process.pid)
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            raise RuntimeError(f"hub from {src} not ready in 900 s")
        finally:
            process.terminate()
            process.wait(30)


def cli_command(src: str) -> float:
    """CPU seconds of `opendip catalogue list` (a command tests run as an operator would), children included."""
    with tempfile.TemporaryDirectory(prefix="hubstart-") as tmp:
        before = os.times()
        subprocess.run(
            [sys.executable, "-c", ENTRY, "catalogue", "list"],
            env=environment(src, Path(tmp)),
            stdout=subprocess.DEVNULL,
            check=True,
        )
        after = os.times()
        return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", action="append", required=True, help="a source tree (repeat: first is the baseline)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    starts: dict[str, list[float]] = {src: [] for src in args.src}
    commands: dict[str, list[float]] = {src: [] for src in args.src}
    for _ in range(args.rounds):
        for src in args.src:
            starts[src].append(hub_start(src))
            commands[src].append(cli_command(src))
    base = args.src[0]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    for name, figures in (("hub start (opendip up to /readyz 200)", starts), ("opendip catalogue list", commands)):
        print(name)
        for src, values in figures.items():
            median = statistics.median(values)
            ratio = median / statistics.median(figures[base])
            print(f"  {src}: CPU s median {median:.2f} (min {min(values):.2f}, max {max(values):.2f}) x{ratio:.2f}")


if __name__ == "__main__":
    main()
