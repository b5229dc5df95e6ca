"""`make run` as a newcomer meets it: the portal link, a first operator, management that opens, pages for errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import screenshot, sign_in
from tests.helpers.hub import OPENDIP, free_port

pytestmark = pytest.mark.browser


class Demo:
    """`opendip demo` in its own process, its output read line by line as a person would read it."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDIP_")}
        self.port = port
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [OPENDIP, "demo", "--data-dir", str(data_dir), "--port", str(port), "--interval", "0.5"],
            env={**env, "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        assert self.process.stdout is not None
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.lines)}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = Demo(tmp_path_factory.mktemp("demo") / "data", free_port())
    try:
        yield running
    finally:
        running.process.terminate()
        try:
            running.process.wait(60)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


def test_make_run_prints_the_portal_and_a_first_operator_who_can_manage(demo: Demo, browser: Any) -> None:
    portal = demo.wait_for(r"portal (http://\S+/portal)\b").group(1)
    assert portal == f"http://127.0.0.1:{demo.port}/portal"
    password = demo.wait_for(r"sign in as operator with password (\S+) \(shown this once").group(1)
    summary = demo.wait_for(r"sent (\d+) \(HTTP 201 x\d+\) · delivered \d+ · last (T-\S+) · portal (\S+)$")
    assert int(summary.group(1)) >= 1 and summary.group(3) == portal, "each summary line repeats the portal link"
    sent = summary.group(2)

    context = browser.new_context(base_url=portal.removesuffix("/portal"), viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, "operator", password)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.goto(f"/portal/messages/{sent}")
    assert page.get_by_role("heading", name=re.compile("^Message ")).is_visible()

    page.get_by_role("link", name="Manage").click()
    page.wait_for_url("**/manage/participants")
    for link, heading in (("Users", "Users"), ("Audit log", "Audit log")):
        page.get_by_role("navigation", name="Management").get_by_role("link", name=link).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name=heading, exact=True).is_visible(), page.url
    assert page.get_by_text("user:operator").count() >= 1, "the first operator's creation is audited"

    missing = page.goto("/portal/no-such-page")
    assert missing is not None and missing.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert "application/json" not in (missing.headers.get("content-type") or "")
    screenshot(page, "portal-404")

    page.goto("/portal")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    page.goto("/manage/users")
    page.wait_for_url(re.compile(r"/login\?next=/manage/users"))
    context.close()


def test_ctrl_c_stops_sending_then_the_hub_without_a_traceback(demo: Demo) -> None:
    demo.wait_for(r"· portal http://")
    demo.process.send_signal(signal.SIGINT)
    rest, _ = demo.process.communicate(timeout=280)
    assert demo.process.returncode == 0, rest
    assert "Traceback" not in rest and "Error" not in rest, rest
    lines = rest.strip().splitlines()
    after = lines[lines.index("stopping: no more messages; stopping the hub") + 1 :]
    assert len(after) == 2 and " · portal http://" in after[0] and after[1] == "stopped", rest
