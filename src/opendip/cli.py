"""The `opendip` command: run the hub, manage its PKI and participants, send messages."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opendip.accounts import commands as account_commands
from opendip.catalogue.tooling.cli import CatalogueDir, catalogue_app, export_command
from opendip.catalogue.tooling.cli import validate as validate_messages
from opendip.config import Settings
from opendip.core.cli import DataDir, EnvOption, console, open_db, settings_for
from opendip.environments.commands import env_app
from opendip.governance.cli import cr_app, release_app
from opendip.messages import commands as message_commands
from opendip.nft.commands import load as load_command
from opendip.nft.nfr_commands import assurance_app, nfr_app
from opendip.ops.commands import backup_app, maintenance_app
from opendip.ops.retention_commands import retention_app
from opendip.participants import commands as participant_commands
from opendip.pki import commands as pki_commands
from opendip.proving.commands import prove as prove_command
from opendip.simulator.example_command import example as example_command
from opendip.tracking.cli import defect_app, tracking_app

if TYPE_CHECKING:
    from opendip.accounts.directory import Organisations


def _organisations() -> Organisations:
    from opendip.participants.organisations import OrganisationDirectory

    return OrganisationDirectory()


app = typer.Typer(help="OpenDIP: an open Data Integration Platform hub.", no_args_is_help=True)
pki_app = typer.Typer(help="The environment's test certificate authority.", no_args_is_help=True)
participant_app = typer.Typer(help="Participants: DIP IDs, roles, keys, certificates.", no_args_is_help=True)
app.add_typer(pki_app, name="pki")
app.add_typer(participant_app, name="participant")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(backup_app, name="backup")
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(retention_app, name="retention")
app.command("validate")(validate_messages)
app.command("send")(message_commands.send)
app.command("example")(example_command)
scenario_app = typer.Typer(help="Scenarios: business flows played through a hub, with evidence packs.")
app.add_typer(scenario_app, name="scenario")
app.add_typer(cr_app, name="cr")
app.add_typer(release_app, name="release")
app.add_typer(tracking_app, name="tracking")
app.add_typer(env_app, name="env")
# organisations, users, keys, traffic, limits, proving, the certificate life-cycle, audit
app.add_typer(participant_commands.org_app, name="org")
app.add_typer(account_commands.user_commands(_organisations), name="user")
participant_app.add_typer(participant_commands.key_app, name="key")
for _name, _command in (
    ("add", participant_commands.participant_add),
    ("suspend", participant_commands.participant_suspend),
    ("reinstate", participant_commands.participant_reinstate),
    ("update", participant_commands.participant_update),
    ("show", participant_commands.participant_show),
    ("list", participant_commands.participant_list),
    ("stop", participant_commands.participant_stop),
    ("start", participant_commands.participant_start),
    ("limits", participant_commands.participant_limits),
):
    participant_app.command(_name)(_command)
app.command("prove")(prove_command)
app.command("load")(load_command)
app.add_typer(nfr_app, name="nfr")
app.add_typer(assurance_app, name="assurance")
app.command("audit")(account_commands.audit_command)
pki_app.command("init")(pki_commands.pki_init)
pki_app.command("revoke")(participant_commands.pki_revoke)
pki_commands.register(pki_app)
pki_app.command("expiry")(participant_commands.pki_expiry)


@catalogue_app.command("export")
def catalogue_export(
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
    catalogue_dir: CatalogueDir = None,
) -> None:
    """Write the hub's API and catalogue as one OpenAPI 3.0 document."""
    from opendip.app import create_app

    export_command(create_app().openapi(), out, catalogue_dir)


def require_free_port(host: str, port: int) -> None:
    """Stop with one line naming the fix when the port is taken, before anything starts listening."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is already in use (another hub?)" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc}"
            console.print(
                f"[red]error:[/] port {port} on {host} {why}; choose another: "
                f"make run PORT={port + 1}  (or opendip up --port {port + 1})",
                soft_wrap=True,
            )
            raise typer.Exit(1) from None


@app.command()
def up(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    data_dir: DataDir = None,
    role: Annotated[str, typer.Option(help="all | api | worker")] = "all",
    tls: Annotated[bool, typer.Option("--tls", help="HTTPS with client certificates from the trusted CAs")] = False,
    catalogue: Annotated[
        Path | None, typer.Option("--catalogue", help="serve this catalogue directory (OPENDIP_CATALOGUE_DIR)")
    ] = None,
) -> None:
    """Run the hub: API and delivery workers in one process, or one role per process on PostgreSQL."""
    from opendip.core.startup import collection_paused

    with collection_paused(freeze=True):  # the application's modules, for the life of the process
        import uvicorn
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        from opendip.app import create_app
        from opendip.core.serving import guarded
        from opendip.ops.logging import configure_logging
        from opendip.ops.memtrace import start_from_env

    start_from_env()  # opt-in tracemalloc snapshots (OPENDIP_TRACEMALLOC_DIR), an operator's tool
    settings = settings_for(data_dir).model_copy(update={"listen": (host, port)})
    if tls:  # mutual TLS (see opendip.pki.tls)
        settings = settings.model_copy(update={"tls": True})
    if catalogue is not None:
        settings = settings.model_copy(update={"catalogue_dir": catalogue})
    if settings.catalogue_dir is not None:
        check_catalogue(settings.catalogue_dir)
    configure_logging(settings.log_level)
    if role not in ("all", "api", "worker"):
        raise typer.BadParameter("role must be all, api or worker")
    if role != "all" and settings.is_sqlite:
        console.print("[yellow]separate roles share the database: use PostgreSQL (OPENDIP_DATABASE_URL)[/]")
    if role == "worker":
        import uvloop

        uvloop.run(_run_worker(settings))  # the API's loop too (uvicorn's loop="uvloop" below)
        return
    require_free_port(host, port)
    application = create_app(settings, role="all" if role == "all" else "api")
    options: dict[str, Any]
    if settings.tls:
        from opendip.pki.tls import serve_options

        options = serve_options(settings)
    else:
        options = {"http": HttpToolsProtocol}
    options["http"] = guarded(options["http"], settings)  # read deadlines and the head's cap, plain or TLS
    uvicorn.run(
        application,
        host=host,
        port=port,
        loop="uvloop",
        log_level="warning",
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),  # SIGTERM: bounded drain
        **options,
    )


async def _run_worker(settings: Settings) -> None:
    """A delivery-only process: the hub's own lifespan (worker, L4 statuses, operations, and the
    environments created on this hub, each with its own worker) without an HTTP listener."""
    from opendip.app import create_app

    application = create_app(settings, role="worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with application.router.lifespan_context(application):
        console.print(f"[green]delivery worker running[/] (event loop: {type(loop).__module__.split('.')[0]})")
        await stop.wait()


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    interval: Annotated[float, typer.Option(help="seconds between demo messages")] = 2.0,
    count: Annotated[int | None, typer.Option(help="stop after this many messages")] = None,
    data_dir: DataDir = None,
) -> None:
    """The first demo: the hub with three simulated participants exchanging IF-043 (`make run` runs `market`)."""
    from opendip.app import create_app
    from opendip.ops.logging import configure_logging
    from opendip.simulator.demo import run_demo

    settings = settings_for(data_dir)
    configure_logging("WARNING")
    require_free_port(host, port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(create_app, settings, host, port, interval, count))


@app.command()
def market(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    duration: Annotated[
        float | None, typer.Option(help="stop after SECONDS (one compressed market day), drain, exit 0")
    ] = None,
    summary_json: Annotated[Path | None, typer.Option(help="write the run's summary here (JSON)")] = None,
    behaviours: Annotated[
        Path | None, typer.Option(help="YAML/JSON behaviours per participant; re-read when it changes")
    ] = None,
    rate: Annotated[float, typer.Option(help="business flows per second in an average hour")] = 6.0,
    day_seconds: Annotated[float, typer.Option(help="length of a simulated day without --duration")] = 600.0,
    mpans: Annotated[int, typer.Option(help="MPANs per distributor area")] = 40,
) -> None:
    """The hub plus a simulated market: every role, a day's traffic with its faults (what `make run` does)."""
    from rich.console import Console

    from opendip.app import create_app
    from opendip.ops.logging import configure_logging
    from opendip.pki.authority import trust_store
    from opendip.simulator.runner import MarketOptions, run_market

    settings = settings_for(data_dir)
    configure_logging("WARNING")
    require_free_port(host, port)
    options = MarketOptions(
        host=host,
        port=port,
        duration=duration,
        day_seconds=day_seconds,
        rate=rate,
        mpans_per_group=mpans,
        behaviours=behaviours,
        summary_json=summary_json,
    )

    async def run() -> None:
        task = asyncio.current_task()
        if task is not None:  # SIGTERM drains like Ctrl-C
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await run_market(settings, options, create_app, trust_store(settings), Console(soft_wrap=True))

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        console.print("market stopped")
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        sys.exit(0)


def check_catalogue(directory: Path) -> None:
    """Refuse to start on a catalogue that does not load, naming the file and the problem."""
    from opendip.catalogue import CatalogueError, load_catalogue

    try:
        load_catalogue(directory)
    except CatalogueError as exc:
        console.print(f"[red]the catalogue in {directory} does not load: {exc}[/]")
        raise typer.Exit(2) from None


@scenario_app.command("run")
def scenario_run(
    files: Annotated[list[Path], typer.Argument(help="scenario YAML files or folders of them")],
    evidence: Annotated[Path, typer.Option(help="write results.json and index.html here")],
    hub: Annotated[
        str | None, typer.Option(help="a running hub's URL (its --data-dir too); default: start one")
    ] = None,
    data_dir: DataDir = None,
    participant: Annotated[
        str | None, typer.Option(help="record the results in test tracking against this participant's DIP ID")
    ] = None,
    real: Annotated[
        list[str] | None,
        typer.Option("--real", help="DIP ID a participant's own system plays (registered on the hub); repeatable"),
    ] = None,
    env: EnvOption = None,
) -> None:
    """Run scenarios with simulated participants (and real systems); exit 0 only when every step passed."""
    raise typer.Exit(_play_and_record(files, evidence, hub, data_dir, participant, real=real, env=env))


def _play_and_record(
    files: list[Path],
    evidence: Path,
    hub: str | None,
    data_dir: Path | None,
    participant: str | None,
    *,
    real: list[str] | None = None,
    env: str | None = None,
) -> int:
    """Run the scenarios; with a participant, record what they prove in test tracking. The run's exit code."""
    from opendip.app import create_app
    from opendip.ops.logging import configure_logging
    from opendip.scenarios.commands import run_files

    configure_logging("WARNING")
    code = run_files(files, settings_for(data_dir, env), evidence, hub, create_app, console, real)
    if participant and code in (0, 1):
        from opendip.tracking.cli import record_evidence
        from opendip.tracking.parts import build_tracking

        settings, db = open_db(data_dir)
        record_evidence(build_tracking(settings, db), evidence, participant)
        db.dispose()
    return code


@defect_app.command("retest")
def defect_retest(
    ref: str,
    evidence: Annotated[Path, typer.Option(help="write the re-test's evidence pack here")],
    hub: Annotated[str | None, typer.Option(help="a running hub's URL (its --data-dir too)")] = None,
    data_dir: DataDir = None,
) -> None:
    """Re-test a fixed defect through its case's scenarios: passed moves it to retested, failed reopens it."""
    from opendip.tracking.cli import retest_plan

    files, participant = retest_plan(ref.upper(), data_dir)
    code = _play_and_record(files, evidence, hub, data_dir, participant)
    retest_plan(ref.upper(), data_dir, report=True)
    raise typer.Exit(code)
