"""`make run` prints where the portal is, and the portal it points to shows the demo's messages."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.helpers.hub import OPENDIP, free_port


def test_demo_prints_the_portal_link_and_the_portal_shows_its_messages(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDIP_")}
    demo = subprocess.Popen(
        [
            OPENDIP,
            "demo",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(port),
            "--interval",
            "0.2",
            "--count",
            "15",
        ],
        env={**env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    try:
        lines: list[str] = []
        portal = None
        deadline = time.time() + 60
        while portal is None and time.time() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"portal (http://\S+/portal)\b", line)
            portal = found.group(1) if found else None
        assert portal == f"http://127.0.0.1:{port}/portal", "".join(lines)
        sent = None
        while sent is None and time.time() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            found = re.search(r"sent IF-043 -> HTTP 201 MSG0000 - Success (T-\S+)", line)
            sent = found.group(1) if found else None
        assert sent, "".join(lines)
        dashboard = httpx.get(portal)
        assert dashboard.status_code == 200 and "<h1>Dashboard</h1>" in dashboard.text
        page = httpx.get(f"{portal}/messages/{sent}")
        assert page.status_code == 200 and "Inbound" in page.text and "GoodToGo" in page.text
    finally:
        demo.terminate()
        demo.wait(20)
