"""Start the real hub (`opendip up`) as a child process on a free port, as an operator would."""

from __future__ import annotations

import os
import signal
import socket
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
            "OPENDIP_RETRY_SCHEDULE": "[0, 0.2, 0.5, 1, 2]",
            "OPENDIP_RETRY_JITTER": "0",
            "OPENDIP_DELIVERY_POLL_SECONDS": "0.1",
            "OPENDIP_DELIVERY_TIMEOUT_SECONDS": "3",
            "OPENDIP_DELIVERY_LEASE_SECONDS": "5",
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

    def start(self, timeout: float = 30.0, role: str = "all") -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [OPENDIP, "up", "--port", str(self.port), "--role", role],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub did not become ready:\n{self.log_path.read_text()[-4000:]}")

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
