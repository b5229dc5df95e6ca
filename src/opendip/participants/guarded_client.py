"""The delivery client with the webhook guard applied when connecting, not only when configuring.

A callback URL is checked when it is set, but DNS answers change: a name
that pointed at a public address may later point at 10.0.0.5 or at the
cloud metadata service. In production mode this client's resolver drops
every address the guard refuses, so the connection is never opened.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from opendip.delivery.client import WebhookClient
from opendip.participants.urls import WebhookPolicy


class GuardedResolver(AbstractResolver):
    def __init__(self, policy: WebhookPolicy) -> None:
        self._policy = policy
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._policy.address_allowed(host, str(r["host"]), port)]
        if not allowed:
            refused = ", ".join(sorted({str(r["host"]) for r in results}))
            raise OSError(errno.EACCES, f"webhook guard: {host} resolves only to refused addresses ({refused})")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class GuardedWebhookClient(WebhookClient):
    def __init__(self, policy: WebhookPolicy, *, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        super().__init__(ssl_context=ssl_context, **kwargs)
        self._policy = policy

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                ssl=self._ssl_context if self._ssl_context is not None else True,
                resolver=GuardedResolver(self._policy),
            )
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self._user_agent})


def delivery_client(policy: WebhookPolicy, ssl_context: ssl.SSLContext) -> WebhookClient:
    """Guarded in production mode; in the test configuration the plain pooled client."""
    if policy.production:
        return GuardedWebhookClient(policy, ssl_context=ssl_context)
    return WebhookClient(ssl_context=ssl_context)
