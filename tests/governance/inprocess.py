"""The real hub app on a real socket, in this process, so the test can hand it a clock it sets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import uvicorn

from opendip.app import create_app
from opendip.config import Settings
from opendip.hub import Hub
from tests.helpers.hub import free_port


class InProcessHub:
    """`opendip up --role api` in a thread: real HTTP, real signatures, the catalogue judged at `clock`."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self.port = free_port()
        self.app = create_app(settings, role="api", clock=clock)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-process hub did not start")
            time.sleep(0.05)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
