"""Hosting: each created environment runs as a full hub app over its own store, behind the one listener.

A request carrying an API key goes to the environment whose register issued
that key; every other request (portal, admin, metrics, a key nobody issued)
goes to the primary. Keys are random and issued per environment, so a key
belongs to exactly one: the same DIP ID can exist in several environments and
each sees only its own traffic. Inside an environment the usual checks hold:
a message whose S1.environmentTag names another environment is refused
(MSG4012), and a certificate registered in another environment is refused.
New, refreshed and reset environments are picked up by `sync`, every second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from opendip.config import Settings
from opendip.environments import metrics
from opendip.environments.service import Environment, EnvironmentService
from opendip.participants.registry import Registry
from opendip.portal.environment_view import VIEW_COOKIE

log = structlog.get_logger(__name__)
METRICS_EVERY = 5.0
PRIMARY_ONLY = ("/portal/environment", "/portal/environments")  # the switch and the overview of them all


@dataclass
class Running:
    environment: Environment
    app: Any

    @property
    def registry(self) -> Registry:
        registry: Registry = self.app.state.hub.registry
        return registry


class Hosting:
    def __init__(self, make_app: Callable[[Settings], Any]) -> None:
        self._make_app = make_app
        self._stack = AsyncExitStack()
        self._service: EnvironmentService | None = None
        self._primary: Registry | None = None
        self.running: dict[str, Running] = {}
        self._published = 0.0

    async def start(self, service: EnvironmentService, primary: Registry) -> None:
        self._service, self._primary = service, primary
        await self.sync()

    async def sync(self) -> None:
        """Start environments created since the last look; follow each one's catalogue line."""
        if self._service is None:
            return
        for env in await asyncio.to_thread(self._service.hosted):
            running = self.running.get(env.name)
            if running is None:
                app = self._make_app(env.settings)
                try:
                    await self._stack.enter_async_context(app.router.lifespan_context(app))
                except Exception:  # one environment's store down must not keep the others (or the hub) from serving
                    log.exception("environment did not start; tried again next sync", environment=env.name)
                    continue
                running = self.running[env.name] = Running(env, app)
                log.info("environment started", environment=env.name)
            running.environment = env
            await asyncio.to_thread(running.app.state.hub.governance.follow, env.catalogue_of)
        if self.running and time.monotonic() - self._published >= METRICS_EVERY:  # nothing to tell apart otherwise
            self._published = time.monotonic()
            metrics.publish(await asyncio.to_thread(self._service.describe))

    async def stop(self) -> None:
        await self._stack.aclose()
        self.running.clear()

    def names(self, primary: str) -> Callable[[], list[str]]:
        """The environments a viewer can switch the portal to: the primary, then those running now."""
        return lambda: [primary, *sorted(self.running)]

    def app_for_view(self, name: str | None) -> Any:
        """The environment app a portal viewer chose (the `opendip_environment` cookie), or None for the primary."""
        running = self.running.get(name.upper()) if name else None
        return running.app if running is not None else None

    def app_for_key(self, api_key: str) -> Any:
        """The environment app whose register issued `api_key`, or None (the primary's, or nobody's)."""
        for running in self.running.values():
            if running.registry.current().caller_for_key(api_key) is not None:
                return running.app
        if self._primary is not None and self._primary.current().caller_for_key(api_key) is not None:
            return None
        for running in self.running.values():  # a key issued a moment ago: look again, a few times a second at most
            if running.registry.reload_if_allowed().caller_for_key(api_key) is not None:
                return running.app
        return None


def _viewed(scope: Scope) -> str | None:
    """The environment a portal page is asked of: the viewer's choice, kept in a cookie."""
    path = scope["path"]
    if path in PRIMARY_ONLY or not (path == "/portal" or path.startswith("/portal/")):
        return None
    header = next((v for k, v in scope["headers"] if k == b"cookie"), None)
    return cookie_parser(header.decode("latin-1")).get(VIEW_COOKIE) if header else None


class EnvironmentDispatch:
    """ASGI middleware in front of the primary app: sends each participant request to its environment.

    The portal's pages follow the environment the viewer chose (GET /portal/environment?name=SIT sets
    the `opendip_environment` cookie): the chosen environment's app answers them from its own store, with
    the hub's users and sessions. The switch itself and the environments overview stay with the primary.
    """

    def __init__(self, app: ASGIApp, hosting: Hosting) -> None:
        self.app = app
        self.hosting = hosting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.hosting.running:
            key = next((v for k, v in scope["headers"] if k == b"x-api-key"), None)
            target = self.hosting.app_for_key(key.decode("latin-1")) if key else None
            if target is None and key is None:
                target = self.hosting.app_for_view(_viewed(scope))
            if target is not None:
                await target(scope, receive, send)
                return
        await self.app(scope, receive, send)
