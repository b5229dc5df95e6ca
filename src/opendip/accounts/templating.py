"""The Jinja environment for sign-in and management pages (autoescaped, UTC times)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "templates"


def utc(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters["utc"] = utc


def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    return page_from(templates, request, name, status, **context)


def page_from(using: Jinja2Templates, request: Request, name: str, status: int = 200, **context: Any) -> Response:
    """A management page from `using` (another domain's templates) with the headers every one carries."""
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("viewer", None)
    response = using.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    return response
