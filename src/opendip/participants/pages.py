"""Management pages (portal forms) for participants and their certificates.

Each form posts back with the session's CSRF token, and is allowed by the
admin API's own permission dependency (`on_page`): a refusal is audited and
answered by the app's one error handler. Each action calls the
same service the CLI and the admin API call, so the rules, the audit entries
and the error texts are the same whichever way a change is made. Secrets
(a new API key, a generated private key) appear once, on the page that
answers the form, and are never stored or logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from opendip.accounts.admin_http import change, run
from opendip.accounts.dependencies import Principal
from opendip.accounts.pages import form_of, on_page, page_principal, page_viewer, problem
from opendip.accounts.roles import Permission
from opendip.accounts.templating import page
from opendip.accounts.viewer import Viewer
from opendip.core.http import hub_of
from opendip.core.params import whole_number
from opendip.errors import DipError, Msg
from opendip.participants import views
from opendip.participants.controls import Direction

router = APIRouter(prefix="/manage", tags=["manage"], include_in_schema=False)

_ACTIONS: dict[str, Permission] = {
    "edit": Permission.EDIT_PARTICIPANTS,
    "suspend": Permission.MANAGE_PARTICIPANTS,
    "reinstate": Permission.MANAGE_PARTICIPANTS,
    "receiving-stop": Permission.CONTROL_TRAFFIC,
    "receiving-start": Permission.CONTROL_TRAFFIC,
    "sending-stop": Permission.CONTROL_TRAFFIC,
    "sending-start": Permission.CONTROL_TRAFFIC,
    "rotate-key": Permission.MANAGE_KEYS,
    "revoke-key": Permission.MANAGE_KEYS,
    "issue-certificate": Permission.MANAGE_CERTIFICATES,
    "revoke-certificate": Permission.MANAGE_CERTIFICATES,
    "prove": Permission.RUN_PROVING,
}


@router.get("")
async def home() -> Response:
    return RedirectResponse("/manage/participants", status_code=303)


async def _list_page(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    rows = await run(views.list_participants, hub_of(request).db, viewer)
    return page(
        request,
        "participants.html",
        status,
        viewer=viewer,
        nav="participants",
        participants=rows,
        can_create=viewer.can(Permission.MANAGE_PARTICIPANTS),
        **context,
    )


@router.get("/participants")
async def list_page(request: Request) -> Response:
    viewer = await page_viewer(request)
    return await _list_page(request, viewer)


@router.post("/participants")
async def create(
    request: Request, who: Annotated[Principal, on_page(Permission.MANAGE_PARTICIPANTS, "participant.create")]
) -> Response:
    viewer, hub = who.viewer, who.hub
    try:
        form = await form_of(request, viewer)
        created = await change(
            hub,
            hub.participants.add,
            form.get("dip_id", "").strip(),
            form.get("role", "").strip(),
            form.get("name", ""),
            webhook=form.get("webhook") or None,
            organisation=form.get("organisation") or None,
            mpid=form.get("mpid") or None,
            csr_pem=form["csr"].encode() if form.get("csr", "").strip() else None,
            actor=viewer.actor,
        )
    except DipError as exc:
        return await _list_page(request, viewer, exc.http_status, error=problem(exc))
    secrets = {"API key (shown once)": created.api_key, "Certificate": created.certificate_pem}
    if created.key is not None:
        secrets["Private key (shown once)"] = created.key.read_text()
    return await _list_page(request, viewer, 201, notice=f"Participant {created.dip_id} registered.", secrets=secrets)


async def _detail_page(request: Request, viewer: Viewer, dip_id: str, status: int = 200, **context: Any) -> Response:
    access = hub_of(request).access
    participant = await run(views.describe, hub_of(request).db, dip_id)
    provings = await run(access.proving.history, dip_id, 10)
    can = {name: viewer.can(permission) for name, permission in _ACTIONS.items()}
    return page(
        request,
        "participant.html",
        status,
        viewer=viewer,
        nav="participants",
        p=participant,
        provings=provings,
        can=can,
        **context,
    )


@router.get("/participants/{dip_id}")
async def detail(
    dip_id: str, request: Request, who: Annotated[Principal, on_page(Permission.READ, scoped=True)]
) -> Response:
    viewer = who.viewer
    try:
        return await _detail_page(request, viewer, dip_id)
    except DipError as exc:
        return await _list_page(request, viewer, exc.http_status, error=problem(exc))


async def may_act(dip_id: str, action: str, who: Annotated[Principal, Depends(page_principal)]) -> Principal:
    """The page's caller, once the action exists and they may take it on this participant (audited when not)."""
    permission = _ACTIONS.get(action)
    if permission is None:
        raise DipError(Msg.NOT_FOUND, f"no action {action!r}")
    await who.may(permission, dip_id, action=f"participant.{action}")
    return who


@router.post("/participants/{dip_id}/{action}")
async def act(dip_id: str, action: str, request: Request, who: Annotated[Principal, Depends(may_act)]) -> Response:
    viewer = who.viewer
    try:
        form = await form_of(request, viewer)
        notice, secrets = await _perform(request, viewer, dip_id, action, form)
    except DipError as exc:
        try:
            return await _detail_page(request, viewer, dip_id, exc.http_status, error=problem(exc))
        except DipError:
            return await _list_page(request, viewer, exc.http_status, error=problem(exc))
    return await _detail_page(request, viewer, dip_id, notice=notice, secrets=secrets)


async def _perform(
    request: Request, viewer: Viewer, dip_id: str, action: str, form: dict[str, str]
) -> tuple[str, dict[str, str]]:
    hub = hub_of(request)
    access = hub.access
    actor = viewer.actor
    if action == "edit":
        await change(
            hub,
            hub.participants.update,
            dip_id,
            name=form.get("name") or None,
            webhook=form.get("webhook") or None,
            actor=actor,
        )
        return "Saved.", {}
    if action in ("suspend", "reinstate"):
        await change(hub, hub.participants.set_status, dip_id, "suspended" if action == "suspend" else "active", actor)
        return f"Participant {action}d.", {}
    if action.startswith(("receiving-", "sending-")):
        direction, verb = action.split("-")
        await change(hub, access.traffic.set_stopped, dip_id, Direction(direction), verb == "stop", actor=actor)
        if verb == "start" and hub.worker is not None:
            hub.worker.wake()
        return f"{direction.capitalize()} {'stopped' if verb == 'stop' else 'started'}.", {}
    if action == "rotate-key":
        key = await change(hub, access.keys.rotate, dip_id, actor=actor)
        return "New API key issued; older keys keep working for the overlap.", {"API key (shown once)": key.api_key}
    if action == "revoke-key":
        key_id = whole_number(form.get("key_id"), "form.key_id", 1, 2**62, 0)
        await change(hub, access.keys.revoke, dip_id, key_id, actor=actor)
        return "API key revoked.", {}
    if action == "issue-certificate":
        csr = form.get("csr", "").strip()
        issued = await change(
            hub,
            access.certificates.issue,
            dip_id,
            csr_pem=csr.encode() if csr else None,
            revoke_previous=form.get("revoke_previous") == "on",
            actor=actor,
        )
        secrets = {"Certificate": issued.certificate_pem.decode()}
        if issued.key_pem is not None:
            secrets["Private key (shown once)"] = issued.key_pem.decode()
        return f"Certificate {issued.fingerprint[:16]} issued.", secrets
    if action == "revoke-certificate":
        await change(
            hub,
            access.certificates.revoke,
            form.get("fingerprint", ""),
            form.get("reason") or "unspecified",
            actor=actor,
        )
        return "Certificate revoked.", {}
    record = await access.proving.prove(dip_id, actor=actor)
    return f"Connectivity proving: {'PASS' if record.passed else 'FAIL'}.", {}


@router.get("/certificates")
async def certificates(request: Request) -> Response:
    """Certificates within 30/14/7/1 days of expiry, and the notifications sent about them."""
    viewer = await page_viewer(request)
    access = hub_of(request).access
    warnings, _ = await run(access.expiry.scan)
    notes = await run(access.expiry.notifications)
    return page(
        request,
        "certificates.html",
        viewer=viewer,
        nav="certificates",
        warnings=[w for w in warnings if viewer.sees(w.dip_id)],
        notifications=[n for n in notes if viewer.sees(n["dip_id"])],
    )
