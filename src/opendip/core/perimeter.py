"""What every answer carries, and what production keeps from strangers.

Browsers act on headers, not on intentions: without `frame-ancestors 'none'`
any site can frame the portal and steer a signed-in operator's clicks, and
without `nosniff` a participant's text could be run as script. The headers
go on every answer (a few bytes; DIP clients ignore them).

`/metrics` names every participant and its traffic, and `/docs` with its
OpenAPI document maps every route: in production they answer only to the
operator token or a metrics token, as `Authorization: Bearer <token>`.

A NUL character in the URL (`%00`) is refused here, before any route: PostgreSQL
cannot hold one in text where SQLite can, so a path or filter carrying one would
be a store fault on one store and a quiet miss on the other.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opendip.core.http import error_answer
from opendip.errors import DipError, Msg

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
OPERATOR_ONLY = ("/metrics", "/docs", "/openapi.json")


class Perimeter:
    """ASGI middleware: security headers on every answer; in production, operator-only paths need a token."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        production: bool,
        tokens: Iterable[str | None] = (),
        page: Callable[[Request, DipError], Response | None] | None = None,
    ) -> None:
        """`page` renders a refusal as a page for a browser (None: the StandardResponse will do)."""
        self.app = app
        self.production = production
        self.tokens = [token.encode() for token in tokens if token]
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [header for header in SECURITY_HEADERS if header[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            refusal = DipError(
                Msg.SCHEMA_FAILURE, "the URL holds a NUL character (%00); no identifier or filter has one"
            )
            page = self.page(Request(scope), refusal) if self.page is not None else None
            await (page or error_answer(refusal))(scope, receive, with_headers)
            return
        if self.production and _operator_only(scope["path"]) and not self._authorised(scope):
            refusal = DipError(Msg.NOT_SIGNED_IN, f"{scope['path']} answers only to the operator or metrics token")
            await error_answer(refusal)(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization" and value[:7].lower() == b"bearer ":
                offered = value[7:].strip()
                return any(hmac.compare_digest(offered, token) for token in self.tokens)
        return False


def _operator_only(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in OPERATOR_ONLY)
