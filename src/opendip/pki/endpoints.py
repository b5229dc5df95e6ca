"""Certificates over HTTP: the public CA certificate and CRL, and the admin certificate routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import answer, change, run
from opendip.accounts.dependencies import Principal, Reader, ScopedReader, SignedIn, allowed_to
from opendip.accounts.roles import Permission
from opendip.core.http import hub_of
from opendip.errors import DipError, Msg
from opendip.pki.files import csr_text
from opendip.pki.schemas import IssueBody, RegisterBody, RevokeBody

public = APIRouter(prefix="/pki", tags=["pki"])
router = APIRouter(prefix="/admin", tags=["admin"])
PEM_CERT = "application/x-pem-file"


def _certificates(action: str) -> Any:
    return allowed_to(Permission.MANAGE_CERTIFICATES, action, scoped=True)


@public.get("/crl.pem")
async def crl(request: Request) -> Response:
    """The CA's certificate revocation list, PEM; relying parties fetch it from the URL in each certificate."""
    access = hub_of(request).access
    pem = await run(access.certificates.crl_pem)
    return Response(pem, media_type="application/x-pem-file", headers={"Cache-Control": "max-age=60"})


@public.get("/ca.pem")
async def ca_certificate(request: Request) -> Response:
    access = hub_of(request).access
    return Response(access.certificates.authority().certificate_pem, media_type=PEM_CERT)


@router.get("/participants/{dip_id}/certificates")
async def list_certificates(dip_id: str, who: ScopedReader) -> Response:
    return answer(await run(who.access.certificates.list_certificates, dip_id))


@router.post("/participants/{dip_id}/certificates")
async def issue(
    dip_id: str, who: Annotated[Principal, _certificates("certificate.issue")], body: IssueBody
) -> Response:
    """Issue or renew: from the participant's CSR (their key never leaves them) or with a generated key."""
    issued = await change(
        who.hub,
        who.access.certificates.issue,
        dip_id,
        csr_pem=csr_text(body.csr) if body.csr else None,
        days=body.days or 365,
        revoke_previous=body.revoke_previous,
        actor=who.actor,
    )
    reply = {
        "fingerprint": issued.fingerprint,
        "serial": format(issued.serial, "x"),
        "notAfter": issued.not_after.isoformat(),
        "certificate": issued.certificate_pem.decode(),
    }
    if issued.key_pem is not None:
        reply["privateKey"] = issued.key_pem.decode()
    return answer(reply, 201)


@router.post("/participants/{dip_id}/certificates/register")
async def register(
    dip_id: str, who: Annotated[Principal, _certificates("certificate.register")], body: RegisterBody
) -> Response:
    """Bind a certificate from a trusted external CA (e.g. a public CA) to this DIP ID."""
    access = who.access
    fingerprint = await change(
        who.hub, access.certificates.register_external, dip_id, body.certificate.encode(), access.trust, actor=who.actor
    )
    return answer({"fingerprint": fingerprint}, 201)


async def may_revoke(fingerprint: str, who: SignedIn, _: RevokeBody) -> list[str]:
    """The DIP IDs the certificate is bound to (404 for none); the caller must manage certificates for each."""
    owners = await run(who.access.certificates.owners, fingerprint)
    if not owners:
        raise DipError(Msg.NOT_FOUND, f"no certificate {fingerprint}")
    for dip_id in owners:
        await who.may(Permission.MANAGE_CERTIFICATES, dip_id, action="certificate.revoke")
    return owners


@router.post("/certificates/{fingerprint}/revoke")
async def revoke(
    fingerprint: str, who: SignedIn, owners: Annotated[list[str], Depends(may_revoke)], body: RevokeBody
) -> Response:
    reason = body.reason or "unspecified"
    await change(who.hub, who.access.certificates.revoke, fingerprint, reason, actor=who.actor)
    return answer({"revoked": fingerprint, "dipIds": owners})


@router.get("/certificates/expiring")
async def expiring(who: Reader) -> Response:
    """Certificates within 30/14/7/1 days of expiry (or expired), and the notifications recorded."""
    access, viewer = who.access, who.viewer
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
