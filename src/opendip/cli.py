"""The `opendip` command: run the hub, manage its PKI and participants, send messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from opendip.accounts import commands as account_commands
from opendip.catalogue.cli import catalogue_app
from opendip.catalogue.cli import validate as validate_messages
from opendip.config import Settings
from opendip.participants import commands as participant_commands
from opendip.pki import commands as pki_commands

if TYPE_CHECKING:
    from opendip.participants.service import ParticipantService

app = typer.Typer(help="OpenDIP: an open Data Integration Platform hub.", no_args_is_help=True)
pki_app = typer.Typer(help="The environment's test certificate authority.", no_args_is_help=True)
participant_app = typer.Typer(help="Participants: DIP IDs, roles, keys, certificates.", no_args_is_help=True)
app.add_typer(pki_app, name="pki")
app.add_typer(participant_app, name="participant")
app.add_typer(catalogue_app, name="catalogue")
app.command("validate")(validate_messages)
# issue 5: organisations, users, keys, traffic, limits, proving, the certificate life-cycle, audit
app.add_typer(participant_commands.org_app, name="org")
app.add_typer(account_commands.user_app, name="user")
participant_app.add_typer(participant_commands.key_app, name="key")
for _name, _command in (
    ("update", participant_commands.participant_update),
    ("show", participant_commands.participant_show),
    ("list", participant_commands.participant_list),
    ("stop", participant_commands.participant_stop),
    ("start", participant_commands.participant_start),
    ("limits", participant_commands.participant_limits),
):
    participant_app.command(_name)(_command)
app.command("prove")(participant_commands.prove)
app.command("audit")(account_commands.audit_command)
pki_commands.register(pki_app)
console = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default .opendip)")]


def settings_for(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


@app.command()
def up(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    data_dir: DataDir = None,
    role: Annotated[str, typer.Option(help="all | api | worker")] = "all",
    tls: Annotated[bool, typer.Option("--tls", help="HTTPS with client certificates from the trusted CAs")] = False,
) -> None:
    """Run the hub: API and delivery workers in one process, or one role per process on PostgreSQL."""
    import uvicorn

    from opendip.app import create_app
    from opendip.ops.logging import configure_logging

    settings = settings_for(data_dir)
    if tls:  # issue 5: mutual TLS (see opendip.pki.tls)
        settings = settings.model_copy(update={"tls": True})
    configure_logging(settings.log_level)
    if role not in ("all", "api", "worker"):
        raise typer.BadParameter("role must be all, api or worker")
    if role != "all" and settings.is_sqlite:
        console.print("[yellow]separate roles share the database: use PostgreSQL (OPENDIP_DATABASE_URL)[/]")
    if role == "worker":
        asyncio.run(_run_worker(settings))
        return
    application = create_app(settings, role="all" if role == "all" else "api")
    if settings.tls:
        from opendip.pki.tls import serve_options

        options = serve_options(settings)
    else:
        options = {"http": "httptools"}
    uvicorn.run(application, host=host, port=port, loop="uvloop", log_level="warning", **options)


async def _run_worker(settings: Settings) -> None:
    from opendip.app import build_hub

    hub = await asyncio.to_thread(build_hub, settings, "worker")
    assert hub.worker is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await hub.worker.start()
    if hub.status is not None:
        await hub.status.start()
    console.print("[green]delivery worker running[/]")
    await stop.wait()
    if hub.status is not None:
        await hub.status.stop()
    await hub.worker.stop()
    hub.db.dispose()


@pki_app.command("init")
def pki_init(data_dir: DataDir = None) -> None:
    """Create (once) the environment's test CA and the hub's own certificate."""
    from opendip.pki.authority import CertificateAuthority, ensure_hub_identity

    settings = settings_for(data_dir)
    ca = CertificateAuthority.init(settings.pki_dir, environment=settings.environment_tag)
    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    print(json.dumps({"ca": str(ca.ca_path), "hub_cert": str(cert), "hub_key": str(key)}))


@pki_app.command("revoke")
def pki_revoke(
    certificate: Annotated[str, typer.Argument(help="SHA-256 fingerprint or hex serial")],
    reason: Annotated[str, typer.Option()] = "unspecified",
    data_dir: DataDir = None,
) -> None:
    """Revoke a participant certificate: the hub refuses it from then on."""
    service = _participants(settings_for(data_dir))
    if not service.revoke_certificate(certificate, reason):
        console.print(f"[red]no unrevoked certificate {certificate}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {certificate}")


def _participants(settings: Settings) -> ParticipantService:
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade
    from opendip.participants.service import ParticipantService

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    return ParticipantService(db, settings)


@participant_app.command("add")
def participant_add(
    dip_id: Annotated[str, typer.Option("--dip-id")],
    role: Annotated[str, typer.Option("--role")],
    name: Annotated[str, typer.Option("--name")],
    webhook: Annotated[str | None, typer.Option("--webhook", help="default webhook for every channel")] = None,
    dcp_for: Annotated[list[str] | None, typer.Option("--dcp-for", help="DIP IDs this provider sends for")] = None,
    organisation: Annotated[str | None, typer.Option("--organisation")] = None,
    mpid: Annotated[str | None, typer.Option("--mpid")] = None,
    csr: Annotated[Path | None, typer.Option("--csr", help="the participant's own CSR (PEM); it keeps its key")] = None,
    data_dir: DataDir = None,
) -> None:
    """Register a participant: prints its API key (shown once) and credential paths as JSON."""
    from opendip.participants.service import ParticipantError

    service = _participants(settings_for(data_dir))
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


@participant_app.command("suspend")
def participant_suspend(dip_id: str, data_dir: DataDir = None) -> None:
    """Suspend a participant: its requests are refused with 403 until it is reinstated."""
    _participants(settings_for(data_dir)).set_status(dip_id, "suspended")


@participant_app.command("reinstate")
def participant_reinstate(dip_id: str, data_dir: DataDir = None) -> None:
    """Lift a suspension."""
    _participants(settings_for(data_dir)).set_status(dip_id, "active")


@app.command()
def send(
    file: Annotated[Path, typer.Argument(help="JSON: one payload, an array of payloads, or a full request body")],
    as_: Annotated[str, typer.Option("--as", help="the sending participant's DIP ID")],
    url: Annotated[str, typer.Option(help="the hub's base URL")] = "http://127.0.0.1:8000",
    interface: Annotated[str | None, typer.Option(help="defaults to the payload's S0.interfaceID")] = None,
    data_dir: DataDir = None,
) -> None:
    """Sign and send messages as a registered participant; prints the hub's StandardResponse."""
    from opendip.messages.client import Credentials, DipClient

    settings = settings_for(data_dir)
    creds_file = settings.data_dir / "participants" / f"{as_}.json"
    if not creds_file.exists():
        console.print(f"[red]no credentials for {as_} in {creds_file.parent}[/]")
        raise typer.Exit(2)
    data = json.loads(file.read_text())
    items = data if isinstance(data, list) else [data]
    payloads = [i["payload"] if isinstance(i, dict) and "payload" in i else i for i in items]
    interface_id = interface or payloads[0]["CommonBlock"]["S0"]["interfaceID"]
    with DipClient(url, Credentials.load(creds_file)) as client:
        response = client.send(interface_id, payloads)
    print(json.dumps(response.json(), indent=2))
    console.print(f"HTTP {response.status_code}")
    if response.status_code not in (201, 207):
        raise typer.Exit(1)


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    interval: Annotated[float, typer.Option(help="seconds between demo messages")] = 2.0,
    count: Annotated[int | None, typer.Option(help="stop after this many messages")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the hub with simulated participants exchanging messages (what `make run` does)."""
    from opendip.ops.logging import configure_logging
    from opendip.simulator.demo import run_demo

    settings = settings_for(data_dir)
    configure_logging("WARNING")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(settings, host, port, interval, count))


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.exit(0)
