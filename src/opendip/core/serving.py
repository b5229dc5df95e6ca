"""The HTTP protocol `opendip up` serves with: the parser's own (plain, or TLS with the client certificate in
the ASGI scope) plus the hub's guards on every connection, the same mixins in every mode: read deadlines
(core/deadlines.py) and the request head's cap (core/head_limit.py)."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from opendip.config import Settings
from opendip.core.deadlines import DeadlineProtocol
from opendip.core.head_limit import HeadLimitProtocol


def guarded(base: type[HttpToolsProtocol], settings: Settings) -> type[HttpToolsProtocol]:
    """A protocol class for uvicorn (`http=`): `base`'s behaviour, with the settings' deadlines and head cap."""
    return type(
        f"Guarded{base.__name__}",
        (DeadlineProtocol, HeadLimitProtocol, base),
        {
            "head_timeout": float(settings.http_head_timeout_seconds),
            "body_timeout": float(settings.http_body_timeout_seconds),
            "max_head_bytes": int(settings.http_max_head_bytes),
        },
    )
