"""Planned maintenance as the running hub sees it: a cached window, the 503 gate on sends, the banner.

Every API node reads the window from the store every `maintenance_refresh_seconds`
(so `opendip maintenance start` on any machine reaches every node), and the
gate in front of the app answers DIP sends with MSG5003 and Retry-After while
it is in force. Workers hold deliveries for the same span and resume after:
the held rows stay pending in the outbox, so nothing is lost or re-ordered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from opendip.core.http import error_answer
from opendip.errors import DipError, Msg
from opendip.ops.repository import Window
from opendip.ops.service import OpsService

GATED_PREFIXES = ("/dip-channel/", "/statusmessage")
GATED_METHODS = frozenset({"POST", "PUT", "DELETE"})
Hook = Callable[[], Awaitable[None]]


def utc_text(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class MaintenanceState:
    """The window in force, refreshed from the store; holds and resumes deliveries on the edges."""

    def __init__(self, service: OpsService, on_hold: Hook | None = None, on_resume: Hook | None = None) -> None:
        self.service = service
        self.window: Window | None = None
        self._on_hold = on_hold
        self._on_resume = on_resume

    def active(self, now: float | None = None) -> Window | None:
        window = self.window
        if window is None or (now if now is not None else time.time()) >= window.until_at:
            return None
        return window

    async def refresh(self) -> None:
        import asyncio

        before = self.window is not None
        self.window = await asyncio.to_thread(self.service.current_maintenance)
        after = self.window is not None
        if after and not before and self._on_hold is not None:
            await self._on_hold()
        elif before and not after and self._on_resume is not None:
            await self._on_resume()

    def refusal(self, now: float) -> DipError | None:
        window = self.active(now)
        if window is None:
            return None
        retry_after = max(1, math.ceil(window.until_at - now))
        detail = f"the hub is in planned maintenance until {utc_text(window.until_at)}: {window.reason}"
        return DipError(Msg.UNAVAILABLE, detail, retry_after=retry_after)

    def banner(self) -> str | None:
        window = self.active()
        if window is None:
            return None
        return f"Planned maintenance until {utc_text(window.until_at)}: {window.reason}. Sends are refused until then."


def state_of(scope: Scope) -> MaintenanceState | None:
    """The running hub's maintenance state (None while the hub is still starting)."""
    hub = getattr(scope["app"].state, "hub", None)
    ops = getattr(hub, "ops", None)
    return getattr(ops, "maintenance", None)


class MaintenanceGate:
    """ASGI middleware: DIP sends during maintenance get 503 + Retry-After; everything else passes."""

    def __init__(self, app: ASGIApp, state: Callable[[Scope], MaintenanceState | None] = state_of) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in GATED_METHODS and scope["path"].startswith(GATED_PREFIXES):
            state = self.state(scope)
            refusal = state.refusal(time.time()) if state is not None else None
            if refusal is not None:
                await error_answer(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)
