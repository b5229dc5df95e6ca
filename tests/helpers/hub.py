"""Start the real hub (`opendip up`) as a child process on a free port, as an operator would."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages.client import Credentials
from opendip.participants.service import ParticipantService

OPENDIP = str(Path(sys.executable).parent / "opendip")


# Ports for processes a test starts: they bind later, so a port the kernel hands out now (bind to 0) may be
# taken by then, by another pytest-xdist worker's hub that asked the kernel the same moment. Each worker
# counts through a block of its own below the kernel's ephemeral range (32768-60999 on Linux), so no two
# workers, and no outgoing connection's source port, ever get the same one.
PORT_BLOCK = 2500
# Five workers' blocks end at 32500, below Linux's ephemeral ports. Two test sessions at once on one machine
# (engineers' worktrees) would take each other's ports: give the second another base (e.g. 7000).
FIRST_PORT = int(os.environ.get("OPENDIP_TEST_FIRST_PORT", "20000"))
_ports = itertools.count()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    base = FIRST_PORT + (int(worker) % 5 if worker.isdigit() else 0) * PORT_BLOCK
    for _ in range(PORT_BLOCK):
        port = base + next(_ports) % PORT_BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:  # still held (a hub of an earlier test, a socket in TIME_WAIT): the next one
                continue
            return port
    raise RuntimeError(f"no free port in {base}-{base + PORT_BLOCK - 1}")


# A hub's start-up imports the whole app and migrates its store: seconds when the machine is idle,
# minutes when every core is busy. Waiting longer costs nothing when it starts quickly.
START_TIMEOUT = 300.0


def wait_until_ready(
    process: subprocess.Popen[bytes],
    base_url: str,
    log_path: Path,
    timeout: float = START_TIMEOUT,
    verify: ssl.SSLContext | bool = True,
) -> None:
    """Poll `/readyz` until it answers 200; a process that exits or never gets ready is killed and reported."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hub exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(base_url + "/readyz", timeout=5, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()  # never leave a half-started hub behind on a shared machine
    process.wait(10)
    raise RuntimeError(f"hub did not become ready in {timeout:.0f} s:\n{log_path.read_text()[-4000:]}")


class HubProcess:
    """The hub in its own process; `kill()` is a real SIGKILL, `start()` after it is a real restart."""

    def __init__(self, data_dir: Path, database_url: str, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.env = {
            **os.environ,
            "OPENDIP_DATA_DIR": str(data_dir),
            "OPENDIP_DATABASE_URL": database_url,
            # PostgreSQL allows 100 clients: four test workers' hubs (and their environments) must fit in them
            "OPENDIP_DATABASE_POOL_SIZE": "2",
            "OPENDIP_RETRY_SCHEDULE": "[0, 0.2, 0.5, 1, 2]",
            "OPENDIP_RETRY_JITTER": "0",
            "OPENDIP_DELIVERY_POLL_SECONDS": "0.1",
            "OPENDIP_DELIVERY_TIMEOUT_SECONDS": "3",
            "OPENDIP_DELIVERY_LEASE_SECONDS": "5",
            "OPENDIP_BACKPRESSURE_MAX_PENDING": "0",  # off unless a test is about it: bulk tests outrun a busy worker
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"hub-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(data_dir=data_dir, database_url=database_url)
        self.db = Database.from_url(database_url)
        upgrade(self.db.engine)
        self.participants = ParticipantService(self.db, self.settings)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT, role: str = "all") -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [OPENDIP, "up", "--port", str(self.port), "--role", role],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_ready(self.process, self.base_url, self.log_path, timeout)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no flushing, exactly a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def add(self, dip_id: str, role: str, *, webhook: str | None = None, dcp_for: tuple[str, ...] = ()) -> Credentials:
        created = self.participants.add(dip_id, role, f"Test {role} {dip_id}", webhook=webhook, dcp_for=dcp_for)
        return Credentials.load(self.settings.data_dir / "participants" / f"{created.dip_id}.json")

    def close(self) -> None:
        self.stop()
        self.db.dispose()
