"""Helpers every /admin route shares: the viewer, CSRF, permission checks that audit refusals, JSON in and out."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import orjson
from fastapi import Request
from fastapi.responses import Response

from opendip.accounts import audit
from opendip.accounts.parts import Access
from opendip.accounts.roles import Permission
from opendip.accounts.viewer import Viewer
from opendip.accounts.web import check_csrf, require_viewer
from opendip.edge import hub_of, read_body
from opendip.errors import DipError, Msg
from opendip.hub import Hub

T = TypeVar("T")
MAX_ADMIN_BODY = 1024 * 1024


def access_of(hub: Hub) -> Access:
    if hub.access is None:
        raise DipError(Msg.UNAVAILABLE, "administration is not available in this process")
    return hub.access


async def admin(request: Request) -> tuple[Hub, Access, Viewer]:
    """The hub, its access parts and the signed-in viewer; CSRF checked for changes made with a cookie."""
    hub = hub_of(request)
    access = access_of(hub)
    viewer = await anyio.to_thread.run_sync(require_viewer, request, hub)
    check_csrf(request, viewer)
    return hub, access, viewer


async def allowed(
    hub: Hub, viewer: Viewer, permission: Permission, dip_id: str | None = None, *, action: str = ""
) -> None:
    """Raise 403 unless allowed; refusals go to the audit log (they are what an auditor looks for)."""
    try:
        viewer.require(permission, dip_id)
    except DipError as exc:
        target = f"participant:{dip_id}" if dip_id else (action or permission.value)
        detail = {"needs": permission.value, "reason": exc.detail}
        await run(
            audit.record_alone,
            hub.db,
            viewer.actor,
            action or permission.value,
            target,
            outcome="refused",
            detail=detail,
        )
        raise


async def run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking service work in a thread, keyword arguments included."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))


async def change(hub: Hub, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a change, then reload this node's registry so it applies here at once (others within a second)."""
    result = await run(function, *args, **kwargs)
    await anyio.to_thread.run_sync(hub.registry.reload)
    return result


async def json_body(request: Request, allowed_keys: set[str], required: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    raw = await read_body(request, MAX_ADMIN_BODY)
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise DipError(Msg.MALFORMED_JSON, f"$: {exc}") from None
    if not isinstance(data, dict):
        raise DipError(Msg.SCHEMA_FAILURE, "$: the body must be a JSON object")
    unknown = sorted(set(data) - allowed_keys)
    if unknown:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{unknown[0]}: unknown key; allowed: {', '.join(sorted(allowed_keys))}")
    missing = sorted(required - set(data))
    if missing:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{missing[0]}: required")
    return data


def text_field(data: dict[str, Any], key: str, *, optional: bool = True, limit: int = 200) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: a string of at most {limit} characters")
    return value


def number_field(data: dict[str, Any], key: str, *, integer: bool = False) -> float | int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: a {'whole ' if integer else ''}number or null")
    return value


def answer(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
