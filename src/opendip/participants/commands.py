"""`opendip participant ...`, `opendip org ...` and `opendip pki expiry` (the participants' certificates).

Registered on the Typer app in opendip/cli.py. Every change runs as the
operator at the shell (`cli:<user>` in the audit log) through the same
services as the admin API and the portal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opendip.core.cli import DataDir, EnvOption, cli_actor, console, emit, fail, open_db
from opendip.errors import DipError

if TYPE_CHECKING:
    from opendip.participants.service import ParticipantService

org_app = typer.Typer(help="Organisations: MPIDs and contacts.", no_args_is_help=True)
key_app = typer.Typer(help="API keys: rotate with overlap, revoke, list.", no_args_is_help=True)


# -- participants --------------------------------------------------------------------------------


def _participants(data_dir: Path | None, env: str | None = None) -> ParticipantService:
    from opendip.participants.service import ParticipantService

    settings, db = open_db(data_dir, env)
    return ParticipantService(db, settings)


def participant_add(
    dip_id: Annotated[str, typer.Option("--dip-id")],
    role: Annotated[str, typer.Option("--role")],
    name: Annotated[str, typer.Option("--name")],
    webhook: Annotated[str | None, typer.Option("--webhook", help="default webhook for every channel")] = None,
    dcp_for: Annotated[list[str] | None, typer.Option("--dcp-for", help="DIP IDs this provider sends for")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation")] = None,
    mpid: Annotated[str | None, typer.Option("--mpid")] = None,
    csr: Annotated[Path | None, typer.Option("--csr", help="the participant's own CSR (PEM); it keeps its key")] = None,
    env: EnvOption = None,
    data_dir: DataDir = None,
) -> None:
    """Register a participant (in --env's environment): prints its API key (shown once) and credential paths."""
    from opendip.participants.service import ParticipantError

    service = _participants(data_dir, env)
    try:
        created = service.add(
            dip_id,
            role,
            name,
            webhook=webhook,
            dcp_for=tuple(dcp_for or ()),
            organisation=organisation,
            mpid=mpid,
            csr_pem=csr.read_bytes() if csr else None,
        )
    except ParticipantError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    print(json.dumps(created.as_dict()))


def participant_suspend(dip_id: str, data_dir: DataDir = None) -> None:
    """Suspend a participant: its requests are refused with 403 until it is reinstated."""
    _participants(data_dir).set_status(dip_id, "suspended")


def participant_reinstate(dip_id: str, data_dir: DataDir = None) -> None:
    """Lift a suspension."""
    _participants(data_dir).set_status(dip_id, "active")


def pki_revoke(
    certificate: Annotated[str, typer.Argument(help="SHA-256 fingerprint or hex serial")],
    reason: Annotated[str, typer.Option()] = "unspecified",
    data_dir: DataDir = None,
) -> None:
    """Revoke a participant certificate: the hub refuses it from then on."""
    service = _participants(data_dir)
    if not service.revoke_certificate(certificate, reason):
        console.print(f"[red]no unrevoked certificate {certificate}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {certificate}")


def participant_update(
    dip_id: str,
    name: Annotated[str | None, typer.Option()] = None,
    webhook: Annotated[str | None, typer.Option(help="default webhook; '' removes it")] = None,
    organisation: Annotated[str | None, typer.Option()] = None,
    mpid: Annotated[str | None, typer.Option()] = None,
    dcp_for: Annotated[list[str] | None, typer.Option("--dcp-for", help="replaces whom it sends for")] = None,
    data_dir: DataDir = None,
) -> None:
    """Change a participant's name, default webhook, organisation, MPID or whom it sends for as a DCP."""
    from opendip.participants.service import UNSET, ParticipantService

    settings, db = open_db(data_dir)
    try:
        ParticipantService(db, settings).update(
            dip_id,
            name=name,
            webhook=(webhook or None) if webhook is not None else UNSET,
            organisation=organisation if organisation is not None else UNSET,
            mpid=mpid if mpid is not None else UNSET,
            dcp_for=tuple(dcp_for) if dcp_for is not None else None,
            actor=cli_actor(),
        )
    except DipError as exc:
        raise fail(exc) from exc
    participant_show(dip_id, data_dir)


def participant_show(dip_id: str, data_dir: DataDir = None) -> None:
    """A participant's details: organisation, traffic state, limits, keys (prefixes only), certificates."""
    from opendip.participants.views import describe

    _, db = open_db(data_dir)
    try:
        emit(describe(db, dip_id))
    except DipError as exc:
        raise fail(exc) from exc


def participant_list(data_dir: DataDir = None) -> None:
    """Every participant, one JSON object each."""
    from opendip.accounts.roles import Role
    from opendip.accounts.viewer import Viewer
    from opendip.participants.views import list_participants

    _, db = open_db(data_dir)
    emit(list_participants(db, Viewer("cli", Role.OPERATOR, None)))


def _traffic(dip_id: str, receiving: bool, sending: bool, stopped: bool, data_dir: Path | None) -> None:
    from opendip.participants.controls import Direction, TrafficControl

    if not receiving and not sending:
        console.print("[red]say which: --receiving (its inbound API) and/or --sending (its outbound sending)[/]")
        raise typer.Exit(2)
    _, db = open_db(data_dir)
    control = TrafficControl(db)
    try:
        for direction, wanted in ((Direction.RECEIVING, receiving), (Direction.SENDING, sending)):
            if wanted:
                state = control.set_stopped(dip_id, direction, stopped, actor=cli_actor())
    except DipError as exc:
        raise fail(exc) from exc
    emit(state)


def participant_stop(
    dip_id: str,
    receiving: Annotated[bool, typer.Option("--receiving", help="hold deliveries to it")] = False,
    sending: Annotated[bool, typer.Option("--sending", help="refuse its sends")] = False,
    data_dir: DataDir = None,
) -> None:
    """Stop a participant's inbound API (deliveries are held, not lost) and/or its outbound sending."""
    _traffic(dip_id, receiving, sending, True, data_dir)


def participant_start(
    dip_id: str,
    receiving: Annotated[bool, typer.Option("--receiving")] = False,
    sending: Annotated[bool, typer.Option("--sending")] = False,
    data_dir: DataDir = None,
) -> None:
    """Start again: held deliveries flow, oldest first; sends are accepted."""
    _traffic(dip_id, receiving, sending, False, data_dir)


def participant_limits(
    dip_id: str,
    rate: Annotated[float | None, typer.Option(help="requests per second per API node; 0 = none")] = None,
    burst: Annotated[int | None, typer.Option()] = None,
    quota: Annotated[int | None, typer.Option(help="accepted messages per UTC day")] = None,
    data_dir: DataDir = None,
) -> None:
    """Set a participant's rate limit and daily quota (unset options take the hub's defaults)."""
    from opendip.participants.controls import TrafficControl

    _, db = open_db(data_dir)
    try:
        emit(
            TrafficControl(db).set_limits(
                dip_id, rate_per_second=rate, burst=burst, daily_quota=quota, actor=cli_actor()
            )
        )
    except DipError as exc:
        raise fail(exc) from exc


@key_app.command("rotate")
def key_rotate(
    dip_id: str,
    overlap: Annotated[float | None, typer.Option(help="seconds the older keys keep working")] = None,
    data_dir: DataDir = None,
) -> None:
    """Issue a new API key (printed once); older keys stop after the overlap."""
    from opendip.participants.keys import ApiKeyService

    settings, db = open_db(data_dir)
    try:
        emit(ApiKeyService(db, settings).rotate(dip_id, overlap_seconds=overlap, actor=cli_actor()).as_json())
    except DipError as exc:
        raise fail(exc) from exc


@key_app.command("revoke")
def key_revoke(dip_id: str, key_id: int, data_dir: DataDir = None) -> None:
    """Stop one API key at once."""
    from opendip.participants.keys import ApiKeyService

    settings, db = open_db(data_dir)
    try:
        ApiKeyService(db, settings).revoke(dip_id, key_id, actor=cli_actor())
    except DipError as exc:
        raise fail(exc) from exc
    emit(ApiKeyService(db, settings).list_keys(dip_id))


@key_app.command("list")
def key_list(dip_id: str, data_dir: DataDir = None) -> None:
    """Key IDs, prefixes and states; never the keys."""
    from opendip.participants.keys import ApiKeyService

    settings, db = open_db(data_dir)
    emit(ApiKeyService(db, settings).list_keys(dip_id))


# -- organisations -------------------------------------------------------------------------------


def parse_contact(text: str) -> dict[str, str]:
    """purpose:name:email[:phone], e.g. certificates:Ops Desk:ops@example.com"""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise typer.BadParameter("a contact is purpose:name:email[:phone]")
    contact = {"purpose": parts[0], "name": parts[1], "email": parts[2]}
    if len(parts) == 4:
        contact["phone"] = parts[3]
    return contact


@org_app.command("add")
def org_add(
    organisation_id: str,
    name: Annotated[str, typer.Option()],
    mpid: Annotated[list[str] | None, typer.Option("--mpid")] = None,
    contact: Annotated[list[str] | None, typer.Option("--contact", help="purpose:name:email[:phone]")] = None,
    data_dir: DataDir = None,
) -> None:
    """Register an organisation with its MPIDs and contacts."""
    from opendip.participants.organisations import OrganisationService

    _, db = open_db(data_dir)
    contacts = [parse_contact(c) for c in contact or []]
    try:
        emit(
            OrganisationService(db).create(
                organisation_id, name, mpids=mpid or [], contacts=contacts, actor=cli_actor()
            )
        )
    except DipError as exc:
        raise fail(exc) from exc


@org_app.command("list")
def org_list(data_dir: DataDir = None) -> None:
    from opendip.participants.organisations import OrganisationService

    _, db = open_db(data_dir)
    emit(OrganisationService(db).list_organisations())


# -- certificates -------------------------------------------------------------------------------


def pki_expiry(data_dir: DataDir = None) -> None:
    """Scan now: certificates within 30/14/7/1 days of expiry; records any new notifications."""
    from opendip.participants.expiry import ExpiryMonitor

    settings, db = open_db(data_dir)
    warnings, created = ExpiryMonitor(db, settings).scan()
    emit({"warnings": [w.as_json() for w in warnings], "newNotifications": created})
