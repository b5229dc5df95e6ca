"""Helpers every /admin route shares: service work in a thread, JSON and file answers.

Who is asking and whether they may is established by the dependencies in `opendip.accounts.dependencies`;
bodies are typed models (`opendip.core.validation`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import orjson
from fastapi.responses import Response

from opendip.errors import DipError, Msg

if TYPE_CHECKING:
    from opendip.hub import Hub

T = TypeVar("T")


async def run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking service work in a thread, keyword arguments included."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))


async def change(hub: Hub, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a change, then reload this node's registry so it applies here at once (others within a second)."""
    result = await run(function, *args, **kwargs)
    await anyio.to_thread.run_sync(hub.registry.reload)
    return result


def answer(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def export_format(fmt: str, what: str) -> str:
    """`csv` or `json` from a route's `{what}.{fmt}`; any other ending is a 404 naming the two."""
    if fmt not in ("csv", "json"):
        raise DipError(Msg.NOT_FOUND, f"the {what} comes as {what}.csv or {what}.json, not {what}.{fmt}")
    return fmt


def download(text: str, fmt: str, name: str) -> Response:
    """A CSV or JSON export as a file to save: `name` without its ending."""
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
