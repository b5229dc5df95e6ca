"""The delivery client with the webhook guard applied when connecting, not only when configuring.

A callback URL is checked when it is set, but DNS answers change: a name
that pointed at a public address may later point at 10.0.0.5 or at the
cloud metadata service, and a URL may have been stored by a path (or a
version of the hub) that checked less. So every connection is checked
again, in every mode: an address literal (in any of its spellings) before
the request is made, since aiohttp never asks the resolver about one, and
every name's addresses in the resolver, which drops those the guard refuses.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from opendip.delivery.client import HttpResult, WebhookClient
from opendip.participants.urls import METADATA_NAMES, WebhookPolicy, address_of


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

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
        refused = self._refusal(url)
        if refused is not None:
            return HttpResult(status=None, error=f"webhook guard: {refused}")
        return await super().post(url, body, headers, timeout)

    def _refusal(self, url: str) -> str | None:
        """Why the guard will not let this URL's literal address be connected to, or None."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "not a valid URL"
        literal = address_of(host)
        if literal is None:
            return "metadata service names are refused" if host.lower().rstrip(".") in METADATA_NAMES else None
        if self._policy.address_allowed(host, str(literal), port):
            return None
        return f"{host} is {literal}, an address this hub may not call"

    def _resolver(self) -> AbstractResolver:
        return GuardedResolver(self._policy)


def delivery_client(policy: WebhookPolicy, ssl_context: ssl.SSLContext) -> WebhookClient:
    """Guarded in every mode: production refuses private addresses too, tests only the hub and metadata."""
    return GuardedWebhookClient(policy, ssl_context=ssl_context)
