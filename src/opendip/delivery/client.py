"""The outbound HTTP client: one pooled aiohttp session, and failures as values.

A webhook POST fails in many ways (timeouts, refused or reset connections, a
server hanging up mid-answer, TLS trouble). Each is an ordinary, expected
delivery outcome to be journalled and retried, so `post` returns it as data
with a readable explanation instead of raising.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractResolver

EXCERPT_CHARS = 500
LATE_ANSWER_ROUNDS = 20
"""Event-loop rounds a POST still gets once its timeout fired: enough to read an answer already received."""
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""Enough for a StandardResponse about thousands of messages; more is not an answer we can use."""


@dataclass(frozen=True)
class HttpResult:
    """What came back: a status and body, or an `error` when no complete answer arrived."""

    status: int | None
    body: bytes = b""
    retry_after_seconds: float | None = None
    error: str | None = None

    @property
    def body_excerpt(self) -> str:
        return self.body[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


def describe_error(exc: BaseException, timeout: float) -> str:
    """A sentence an operator understands, naming the kind of fault first."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return f"timeout: no complete answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return f"TLS error: {detail}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed by the server before a complete answer"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connection failed: {detail}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"response body incomplete: {detail}"
    if isinstance(exc, aiohttp.ClientOSError | ConnectionError):
        return f"connection error: {detail}"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"invalid callback URL: {detail}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"malformed HTTP response: {detail}"
    return f"{type(exc).__name__}: {detail}"


class WebhookClient:
    """A shared connection pool for all recipients.

    `limit_per_host` keeps one recipient (or a connection provider hosting
    many) from taking every connection; `ssl_context` carries our client
    certificate and trust for https callbacks.
    """

    def __init__(
        self,
        *,
        limit: int = 256,
        limit_per_host: int = 32,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = "OpenDIP-delivery",
    ) -> None:
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._ssl_context = ssl_context
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                ssl=self._ssl_context if self._ssl_context is not None else True,
                resolver=self._resolver(),
            )
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self._user_agent})

    def _resolver(self) -> AbstractResolver | None:
        """How host names become addresses: aiohttp's default here; the guarded client checks each answer."""
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
        """POST `body`; never raises for network or protocol faults.

        The timeout is the recipient's, not the hub's own: when the timer fires, an answer that already
        arrived (the process was starved of CPU, or its event loop held up, while the answer waited in
        the socket) is still read. Counting it as timed out would re-send a batch the recipient took.
        """
        await self.start()
        exchange = asyncio.ensure_future(self._exchange(url, body, headers))
        try:
            await asyncio.wait({exchange}, timeout=timeout)
            for _ in range(LATE_ANSWER_ROUNDS):  # the sockets are read each round: what arrived is taken
                if exchange.done():
                    break
                await asyncio.sleep(0)
            if not exchange.done():
                exchange.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await exchange
                return HttpResult(status=None, error=describe_error(TimeoutError(), timeout))
            return exchange.result()
        except Exception as exc:  # CancelledError is a BaseException and still propagates
            return HttpResult(status=None, error=describe_error(exc, timeout))
        finally:
            exchange.cancel()  # a cancelled caller (a stopping worker) leaves no request running

    async def _exchange(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        assert self._session is not None
        async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
            content = await _read_capped(response)
            return HttpResult(
                status=response.status,
                body=content,
                retry_after_seconds=parse_retry_after(response.headers.get("Retry-After")),
            )


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]
