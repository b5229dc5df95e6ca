"""`opendip participant ...`, `opendip org ...`, `opendip prove` and the PKI life-cycle commands.

Registered on the Typer app in opendip/cli.py. Every change runs as the
operator at the shell (`cli:<user>` in the audit log) through the same
services as the admin API and the portal.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from opendip.config import Settings
from opendip.errors import DipError

if TYPE_CHECKING:
    from opendip.accounts.audit import Actor
    from opendip.db.engine import Database

console = Console(stderr=True)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default .opendip)")]
org_app = typer.Typer(help="Organisations: MPIDs and contacts.", no_args_is_help=True)
key_app = typer.Typer(help="API keys: rotate with overlap, revoke, list.", no_args_is_help=True)


def cli_actor() -> Actor:
    """The operator at this shell, as the audit log names them (imported late: `opendip --help` stays quick)."""
    from opendip.accounts.audit import Actor

    return Actor.cli()


def open_db(data_dir: Path | None) -> tuple[Settings, Database]:
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    return settings, db


def emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def fail(exc: DipError) -> typer.Exit:
    console.print(f"[red]{exc.msg.spec.message}: {exc.help}[/]")
    return typer.Exit(1)


# -- participants --------------------------------------------------------------------------------


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


# -- proving -------------------------------------------------------------------------------------


def prove(
    dip_id: str,
    wait: Annotated[float, typer.Option(help="seconds to wait for a message from it to arrive")] = 0.0,
    within_hours: Annotated[float, typer.Option(help="a message received this recently counts")] = 168.0,
    data_dir: DataDir = None,
) -> None:
    """Connectivity proving: certificate, webhook over TLS, test message acknowledged, message received.

    Prints the dated record as JSON and exits 0 on PASS, 1 on FAIL.
    """
    from opendip.accounts.parts import build_access
    from opendip.app import trust_store
    from opendip.participants.registry import Registry

    settings, db = open_db(data_dir)
    access = build_access(settings, db, Registry(db), trust_store(settings))
    try:
        record = asyncio.run(
            access.proving.prove(
                dip_id, actor=cli_actor(), received_within_seconds=within_hours * 3600, wait_for_message_seconds=wait
            )
        )
    except DipError as exc:
        raise fail(exc) from exc
    emit(record.as_json())
    for check in record.checks:
        mark = "[green]PASS[/]" if check.passed else "[red]FAIL[/]"
        console.print(f"{mark} {check.name}: {check.detail}", soft_wrap=True)
    console.print(f"[bold]{'PASS' if record.passed else 'FAIL'}[/] {dip_id} (record {record.id})")
    if not record.passed:
        raise typer.Exit(1)


def read_file_or_stdin(path: Path) -> bytes:
    return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
