"""`opendip pki init|issue|renew|register|trust|crl`: the certificate life-cycle at the shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from opendip.core.cli import DataDir, cli_actor, console, emit, fail, open_db, read_file_or_stdin, settings_for
from opendip.errors import DipError


def pki_init(data_dir: DataDir = None) -> None:
    """Create (once) the environment's test CA and the hub's own certificate."""
    from opendip.pki.authority import CertificateAuthority, ensure_hub_identity

    settings = settings_for(data_dir)
    ca = CertificateAuthority.init(settings.pki_dir, environment=settings.environment_tag)
    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    print(json.dumps({"ca": str(ca.ca_path), "hub_cert": str(cert), "hub_key": str(key)}))


def pki_issue(
    dip_id: str,
    csr: Annotated[Path | None, typer.Option(help="PEM CSR ('-' for stdin); without it a key is generated")] = None,
    days: Annotated[int, typer.Option()] = 365,
    revoke_previous: Annotated[bool, typer.Option("--revoke-previous", help="revoke older certificates now")] = False,
    data_dir: DataDir = None,
) -> None:
    """Issue (or renew) a participant's certificate; a generated key replaces its credential files."""
    from opendip.pki.service import CertificateService

    settings, db = open_db(data_dir)
    try:
        issued = CertificateService(db, settings).issue(
            dip_id,
            csr_pem=read_file_or_stdin(csr) if csr else None,
            days=days,
            revoke_previous=revoke_previous,
            write_files=True,
            actor=cli_actor(),
        )
    except DipError as exc:
        raise fail(exc) from exc
    where = settings.data_dir / "participants" / f"{dip_id}.pem"
    emit(
        {
            "fingerprint": issued.fingerprint,
            "serial": format(issued.serial, "x"),
            "notAfter": issued.not_after.isoformat(),
            "certificate": str(where) if issued.key_pem is not None else issued.certificate_pem.decode(),
        }
    )


def pki_register(dip_id: str, certificate: Path, data_dir: DataDir = None) -> None:
    """Bind a certificate from a trusted external CA (trust its CA first) to a DIP ID."""
    from opendip.pki.authority import trust_store
    from opendip.pki.service import CertificateService

    settings, db = open_db(data_dir)
    try:
        fingerprint = CertificateService(db, settings).register_external(
            dip_id, read_file_or_stdin(certificate), trust_store(settings), actor=cli_actor()
        )
    except DipError as exc:
        raise fail(exc) from exc
    emit({"fingerprint": fingerprint, "dipId": dip_id})


def pki_trust(ca_certificate: Path, data_dir: DataDir = None) -> None:
    """Trust an external CA (e.g. a public CA's issuing CA); restart the hub to apply."""
    from opendip.pki.service import CertificateService

    settings, db = open_db(data_dir)
    try:
        path = CertificateService(db, settings).trust_ca(read_file_or_stdin(ca_certificate), actor=cli_actor())
    except DipError as exc:
        raise fail(exc) from exc
    emit({"trusted": str(path)})
    console.print("restart the hub for the new CA to take effect")


def pki_crl(
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None, data_dir: DataDir = None
) -> None:
    """The current CRL (PEM); the running hub also publishes it at /pki/crl.pem."""
    from opendip.pki.service import CertificateService

    settings, db = open_db(data_dir)
    pem = CertificateService(db, settings).crl_pem()
    if out is None:
        print(pem.decode(), end="")
    else:
        out.write_bytes(pem)


def register(pki_app: typer.Typer) -> None:
    pki_app.command("issue")(pki_issue)
    pki_app.command("renew", help="Renew a certificate (the same as issue): the old one stays valid until it expires.")(
        pki_issue
    )
    pki_app.command("register")(pki_register)
    pki_app.command("trust")(pki_trust)
    pki_app.command("crl")(pki_crl)
