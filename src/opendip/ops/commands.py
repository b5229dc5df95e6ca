"""`opendip backup now|list|verify|restore|drill`: backups an operator can trust, from the shell.

Every command prints JSON on stdout (for scripts and cron) and explains
failures in one line on stderr with exit status 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opendip.config import Settings
from opendip.core.cli import DataDir, console, emit

if TYPE_CHECKING:
    from opendip.ops.backups import BackupService

backup_app = typer.Typer(
    help="Backups of the store and data dir: take, list, verify, restore, drill.", no_args_is_help=True
)
BackupDir = Annotated[Path | None, typer.Option("--backup-dir", help="Backup directory (default <data dir>/backups)")]
BackupFile = Annotated[Path | None, typer.Argument(help="a backup's store file or manifest; the newest when left out")]


def service(data_dir: Path | None, backup_dir: Path | None) -> BackupService:
    from opendip.ops.backups import BackupService
    from opendip.ops.logging import configure_logging

    configure_logging("INFO")  # log lines on stderr: stdout carries the JSON answer
    update: dict[str, Any] = {}
    if data_dir:
        update["data_dir"] = data_dir
    if backup_dir:
        update["backup_dir"] = backup_dir
    return BackupService(Settings(**update))


@contextmanager
def failing_clearly() -> Iterator[None]:
    from opendip.ops.backup_engines import BackupError

    try:
        yield
    except (BackupError, OSError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc


@backup_app.command("now")
def backup_now(data_dir: DataDir = None, backup_dir: BackupDir = None) -> None:
    """Take a consistent backup while the hub runs; prints the file, its checksum and the message count."""
    backups = service(data_dir, backup_dir)
    with failing_clearly():
        manifest = backups.take()
    emit(
        {
            "file": str(backups.directory / manifest.store_file),
            "sha256": manifest.store_sha256,
            "messages": manifest.messages,
            "counts": manifest.counts,
            "files_archive": str(backups.directory / manifest.files_archive),
            "seconds": round(manifest.finished_at - manifest.started_at, 3),
        }
    )


@backup_app.command("list")
def backup_list(data_dir: DataDir = None, backup_dir: BackupDir = None) -> None:
    """Every complete backup, oldest first."""
    backups = service(data_dir, backup_dir)
    emit(
        [
            {
                "file": str(backups.directory / m.store_file),
                "taken": m.started_at,
                "engine": m.engine,
                "messages": m.messages,
                "bytes": m.store_bytes,
                "sha256": m.store_sha256,
            }
            for m in backups.all()
        ]
    )


@backup_app.command("verify")
def backup_verify(file: BackupFile = None, data_dir: DataDir = None, backup_dir: BackupDir = None) -> None:
    """Recompute the checksums and read the snapshot back; exit 1 if anything is wrong."""
    with failing_clearly():
        verification = service(data_dir, backup_dir).verify(file)
    emit({"backup": verification.manifest.name, "ok": verification.ok, "problems": verification.problems})
    if not verification.ok:
        raise typer.Exit(1)


@backup_app.command("restore")
def backup_restore(
    file: Annotated[Path, typer.Argument(help="the backup's store file or manifest")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="the NEW data dir to build (must be empty)")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="PostgreSQL backups: the database to restore into")
    ] = None,
    backup_dir: BackupDir = None,
) -> None:
    """Build a working data dir from a verified backup; run `opendip up --data-dir NEW` on it."""
    with failing_clearly():
        emit(service(None, backup_dir).restore(file, data_dir, database_url))


@backup_app.command("drill")
def backup_drill(file: BackupFile = None, data_dir: DataDir = None, backup_dir: BackupDir = None) -> None:
    """Restore into a scratch place and check counts and the messages digest against the manifest."""
    with failing_clearly():
        emit(service(data_dir, backup_dir).drill(file))


# ---------------------------------------------------------------- maintenance

maintenance_app = typer.Typer(help="Planned maintenance: sends answered 503, deliveries held.", no_args_is_help=True)
DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_until(text: str, now: float) -> float:
    """An ISO 8601 time (UTC when no offset is given) or a duration from now such as 90m, 2h, 1d."""
    from datetime import UTC, datetime

    value = text.strip()
    if value[:-1].replace(".", "", 1).isdigit() and value[-1:].lower() in DURATION:
        return now + float(value[:-1]) * DURATION[value[-1].lower()]
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r}: give an ISO 8601 time (2026-12-01T06:00Z) or a duration (90m, 2h)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def ops_service(data_dir: Path | None) -> Any:
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade
    from opendip.ops.service import OpsService

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    return OpsService(db)


def window_json(window: Any) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "started_at": window.started_at,
        "until": window.until_at,
        "reason": window.reason,
        "started_by": window.started_by,
        "ended_at": window.ended_at,
    }


@maintenance_app.command("start")
def maintenance_start(
    until: Annotated[str, typer.Option("--until", help="ISO 8601 time (UTC if no offset) or a duration: 90m, 2h")],
    reason: Annotated[str, typer.Option("--reason", help="what participants are told")],
    data_dir: DataDir = None,
) -> None:
    """Start planned maintenance now (or move the end of the one in force); every node picks it up."""
    import getpass
    import time

    from opendip.ops.service import MaintenanceError

    try:
        window = ops_service(data_dir).start_maintenance(
            parse_until(until, time.time()), reason, f"cli:{getpass.getuser()}"
        )
    except MaintenanceError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    emit({"maintenance": window_json(window)})


@maintenance_app.command("end")
def maintenance_end(data_dir: DataDir = None) -> None:
    """End maintenance now: sends are accepted again and held deliveries resume."""
    closed = ops_service(data_dir).end_maintenance()
    emit({"ended": [window_json(w) for w in closed]})


@maintenance_app.command("status")
def maintenance_status(data_dir: DataDir = None) -> None:
    """The window in force, availability per month and the latest outages."""
    service = ops_service(data_dir)
    emit(
        {
            "maintenance": window_json(service.current_maintenance()),
            "availability": [month.as_dict() for month in service.availability()],
            "outages": [outage.__dict__ for outage in service.recent_outages(20)],
        }
    )
