"""The admin routes' preamble as FastAPI dependencies: who is asking, and may they.

A route names what it needs in its signature and holds no auth code:

    async def rotate_key(dip_id: str, who: Annotated[Principal, allowed_to(Permission.MANAGE_KEYS, ...)]): ...

The dependencies run in the order the preamble always had: the viewer is
established from the session cookie or the operator token (401 MSG2052), a
change made with a cookie must carry the session's CSRF token (403 MSG3052),
then the permission is checked, on the path's `dip_id` when scoped (403
MSG3051 or MSG3006), every refusal written to the audit log. A body named after
the principal (`admin_body`) is read only once the caller is known.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request

from opendip.accounts.admin_http import run
from opendip.accounts.roles import Permission
from opendip.accounts.viewer import Viewer
from opendip.accounts.web import check_csrf, require_viewer
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.http import hub_of
from opendip.core.validation import Body, parse_body, reads_body
from opendip.errors import DipError

if TYPE_CHECKING:
    from opendip.hub import Hub
    from opendip.hub.access import Access

B = TypeVar("B", bound=Body)


@dataclass(frozen=True)
class Principal:
    """Who asks an admin route, and the hub they ask: all a route needs once the preamble has passed."""

    hub: Hub
    viewer: Viewer

    @property
    def access(self) -> Access:
        return self.hub.access

    @property
    def actor(self) -> Actor:
        return self.viewer.actor

    async def may(self, permission: Permission, dip_id: str | None = None, *, action: str = "") -> None:
        """403 unless allowed (on `dip_id`, when named); refusals go to the audit log, for an auditor looks for them.

        Called by `allowed_to`, and directly by the few dependencies whose permission depends on the body.
        """
        try:
            self.viewer.require(permission, dip_id)
        except DipError as exc:
            target = f"participant:{dip_id}" if dip_id else (action or permission.value)
            detail = {"needs": permission.value, "reason": exc.detail}
            await run(
                audit.record_alone,
                self.hub.db,
                self.actor,
                action or permission.value,
                target,
                outcome="refused",
                detail=detail,
            )
            raise


async def signed_in(request: Request) -> Principal:
    """The signed-in viewer (401 without one); a cookie-authenticated change must carry its CSRF token."""
    hub = hub_of(request)
    viewer = await anyio.to_thread.run_sync(require_viewer, request, hub)
    check_csrf(request, viewer)
    return Principal(hub, viewer)


SignedIn = Annotated[Principal, Depends(signed_in)]


Establish = Callable[[Request], Awaitable[Principal]]
"""How a route's caller is established: `signed_in` for the API, the page or portal rule for their forms."""


def allowed_to(permission: Permission, action: str = "", *, scoped: bool = False, via: Establish = signed_in) -> Any:
    """A dependency yielding the principal once `permission` is held (on the path's `dip_id` when `scoped`).

    `action` names the refusal in the audit log; `{name}` in it is filled from the path, e.g. `{verb}`.
    `via` establishes the caller first: the admin API's `signed_in`, or a page's (accounts/pages.py), so
    pages and API refuse alike and the one app-level handler answers (a page for a browser, JSON otherwise).
    """

    async def check(request: Request, who: Principal) -> Principal:
        dip_id = request.path_params["dip_id"] if scoped else None
        await who.may(permission, dip_id, action=action.format_map(request.path_params))
        return who

    check.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # `via` is this call's own
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter(
                "who", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[Principal, Depends(via)]
            ),
        ],
        return_annotation=Principal,
    )
    return Depends(check)


Reader = Annotated[Principal, allowed_to(Permission.READ)]
ScopedReader = Annotated[Principal, allowed_to(Permission.READ, scoped=True)]


def admin_body(model: type[B]) -> Any:
    """A dependency yielding the body as `model`, read only after the caller is established."""
    return Depends(_parser(model))


@functools.cache
def _parser(model: type[B]) -> Callable[[Request, Principal], Awaitable[B]]:
    """One parser per model, so every dependency naming the same body shares one read of it."""

    async def parse(request: Request, _: SignedIn) -> B:
        return await parse_body(request, model)

    return reads_body(parse, model)
