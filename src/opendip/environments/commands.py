"""`opendip env create | list | refresh | reset | log` (other commands take `--env NAME`: opendip.core.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opendip.core.cli import DataDir, cli_actor, emit, fail, open_db
from opendip.errors import DipError

if TYPE_CHECKING:
    from opendip.environments.service import EnvironmentService

env_app = typer.Typer(help="Several environments on one hub (SIT, UIT, PRE-PROD...), kept apart.", no_args_is_help=True)


def _service(data_dir: Path | None) -> EnvironmentService:
    from opendip.environments.service import EnvironmentService

    settings, db = open_db(data_dir)
    return EnvironmentService(settings, db)


@env_app.command("create")
def env_create(
    name: Annotated[str, typer.Argument(help="its environmentTag, e.g. SIT, UIT, PPRD")], data_dir: DataDir = None
) -> None:
    """Create an environment with a store of its own; the running hub serves it within a second."""
    service = _service(data_dir)
    try:
        env = service.create(name, cli_actor())
    except DipError as exc:
        raise fail(exc) from exc
    emit(next(e for e in service.describe() if e["name"] == env.name))


@env_app.command("list")
def env_list(data_dir: DataDir = None) -> None:
    """Every environment on this hub: catalogue served, release path, participants, messages."""
    emit(_service(data_dir).describe())


@env_app.command("refresh")
def env_refresh(
    source: Annotated[str, typer.Argument(help="copy from this environment")],
    target: Annotated[str, typer.Argument(help="into this created environment")],
    obfuscate: Annotated[bool, typer.Option("--obfuscate", help="participants' names replaced")] = False,
    data_dir: DataDir = None,
) -> None:
    """Participants and catalogue line from SOURCE into TARGET; keys, certificates, webhooks, messages stay."""
    try:
        emit(_service(data_dir).refresh(source, target, cli_actor(), obfuscate=obfuscate))
    except DipError as exc:
        raise fail(exc) from exc


@env_app.command("reset")
def env_reset(name: str, data_dir: DataDir = None) -> None:
    """Wipe the environment's messages (deliveries, journal, statuses too); its participants stay."""
    try:
        emit(_service(data_dir).reset(name, cli_actor()))
    except DipError as exc:
        raise fail(exc) from exc


@env_app.command("log")
def env_log(
    name: Annotated[str | None, typer.Argument(help="one environment (default: all)")] = None,
    note: Annotated[str | None, typer.Option("--note", help="record an issue (outage, roll-back...) first")] = None,
    kind: Annotated[str, typer.Option(help="what kind of issue --note records")] = "issue",
    data_dir: DataDir = None,
) -> None:
    """What happened to the environments (created, refreshed, reset, issues), newest first."""
    service = _service(data_dir)
    try:
        if note is not None:
            if name is None:
                raise typer.BadParameter("--note needs the environment's name")
            service.log(name, kind, note, cli_actor())
        emit(service.events(name))
    except DipError as exc:
        raise fail(exc) from exc


@env_app.command("verify")
def env_verify(
    name: str,
    within_hours: Annotated[
        float, typer.Option(help="a message received from a participant this recently counts")
    ] = 168.0,
    data_dir: DataDir = None,
) -> None:
    """Is NAME ready? Every participant proved (certificate, webhook, test message, a message from it) and the
    catalogue it serves; the verdict goes into the environment log. Exits 0 when ready, 1 when not."""
    import asyncio

    from opendip.environments.verify import verify

    try:
        verdict = asyncio.run(
            verify(_service(data_dir), name, cli_actor(), received_within_seconds=within_hours * 3600)
        )
    except DipError as exc:
        raise fail(exc) from exc
    emit(verdict)
    if not verdict["ready"]:
        raise typer.Exit(1)
