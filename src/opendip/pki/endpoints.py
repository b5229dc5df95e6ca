"""Certificates over HTTP: the public CA certificate and CRL, and the admin certificate routes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import (
    access_of,
    admin,
    allowed,
    answer,
    change,
    json_body,
    number_field,
    run,
    text_field,
)
from opendip.accounts.roles import Permission
from opendip.edge import hub_of
from opendip.errors import DipError, Msg
from opendip.participants.admin import csr_text

public = APIRouter(prefix="/pki", tags=["pki"])
router = APIRouter(prefix="/admin", tags=["admin"])
PEM_CERT = "application/x-pem-file"


@public.get("/crl.pem")
async def crl(request: Request) -> Response:
    """The CA's certificate revocation list, PEM; relying parties fetch it from the URL in each certificate."""
    access = access_of(hub_of(request))
    pem = await run(access.certificates.crl_pem)
    return Response(pem, media_type="application/x-pem-file", headers={"Cache-Control": "max-age=60"})


@public.get("/ca.pem")
async def ca_certificate(request: Request) -> Response:
    access = access_of(hub_of(request))
    return Response(access.certificates.authority().certificate_pem, media_type=PEM_CERT)


@router.get("/participants/{dip_id}/certificates")
async def list_certificates(dip_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ, dip_id)
    return answer(await run(access.certificates.list_certificates, dip_id))


@router.post("/participants/{dip_id}/certificates")
async def issue(dip_id: str, request: Request) -> Response:
    """Issue or renew: from the participant's CSR (their key never leaves them) or with a generated key."""
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_CERTIFICATES, dip_id, action="certificate.issue")
    data = await json_body(request, {"csr", "days", "revokePrevious"})
    csr = text_field(data, "csr", limit=20000)
    revoke_previous = data.get("revokePrevious", False)
    if not isinstance(revoke_previous, bool):
        raise DipError(Msg.SCHEMA_FAILURE, "$.revokePrevious: true or false")
    issued = await change(
        hub,
        access.certificates.issue,
        dip_id,
        csr_pem=csr_text(csr) if csr else None,
        days=int(number_field(data, "days", integer=True) or 365),
        revoke_previous=revoke_previous,
        actor=viewer.actor,
    )
    body = {
        "fingerprint": issued.fingerprint,
        "serial": format(issued.serial, "x"),
        "notAfter": issued.not_after.isoformat(),
        "certificate": issued.certificate_pem.decode(),
    }
    if issued.key_pem is not None:
        body["privateKey"] = issued.key_pem.decode()
    return answer(body, 201)


@router.post("/participants/{dip_id}/certificates/register")
async def register(dip_id: str, request: Request) -> Response:
    """Bind a certificate from a trusted external CA (e.g. a public CA) to this DIP ID."""
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_CERTIFICATES, dip_id, action="certificate.register")
    data = await json_body(request, {"certificate"}, {"certificate"})
    pem = text_field(data, "certificate", optional=False, limit=20000) or ""
    fingerprint = await change(
        hub, access.certificates.register_external, dip_id, pem.encode(), access.trust, actor=viewer.actor
    )
    return answer({"fingerprint": fingerprint}, 201)


@router.post("/certificates/{fingerprint}/revoke")
async def revoke(fingerprint: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    data = await json_body(request, {"reason"})
    owners = await run(access.certificates.owners, fingerprint)
    if not owners:
        raise DipError(Msg.NOT_FOUND, f"no certificate {fingerprint}")
    for dip_id in owners:
        await allowed(hub, viewer, Permission.MANAGE_CERTIFICATES, dip_id, action="certificate.revoke")
    reason = text_field(data, "reason") or "unspecified"
    await change(hub, access.certificates.revoke, fingerprint, reason, actor=viewer.actor)
    return answer({"revoked": fingerprint, "dipIds": owners})


@router.get("/certificates/expiring")
async def expiring(request: Request) -> Response:
    """Certificates within 30/14/7/1 days of expiry (or expired), and the notifications recorded."""
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ)
    warnings, _ = await run(access.expiry.scan)
    notes = await run(access.expiry.notifications)
    return answer(
        {
            "warnings": [w.as_json() for w in warnings if viewer.sees(w.dip_id)],
            "notifications": [
                {
                    k: n[k]
                    for k in ("dip_id", "fingerprint", "threshold_days", "created_at", "recipients", "subject", "body")
                }
                for n in notes
                if viewer.sees(n["dip_id"])
            ],
        }
    )
