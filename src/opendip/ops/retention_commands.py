"""`opendip retention run|status|archives|verify|restore-archive`: archive then purge old data, from the shell.

Each prints JSON on stdout; a failure is one line on stderr and exit status 1.
Periods come from OPENDIP_RETENTION_{MESSAGES,JOURNAL,AUDIT}_DAYS (0 keeps a
kind forever); `run --days` overrides them for one run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opendip.core.cli import DataDir, console, emit, open_db

if TYPE_CHECKING:
    from opendip.ops.retention import RetentionService

retention_app = typer.Typer(
    help="Retention: archive (JSON Lines + gzip, SHA-256) then purge messages, journal and audit entries.",
    no_args_is_help=True,
)
Kinds = Annotated[list[str] | None, typer.Option("--kind", help="messages | journal | audit (repeatable)")]


def service(data_dir: Path | None, days: float | None = None, kinds: list[str] | None = None) -> RetentionService:
    from opendip.ops.logging import configure_logging
    from opendip.ops.retention import RetentionService

    configure_logging("INFO")
    settings, db = open_db(data_dir)
    if days is not None:
        for kind in kinds or ("messages", "journal", "audit"):
            setattr(settings, f"retention_{kind}_days", days)
    return RetentionService(settings, db)


@contextmanager
def failing_clearly() -> Iterator[None]:
    from opendip.ops.retention import RetentionError

    try:
        yield
    except (RetentionError, OSError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc


@retention_app.command("run")
def retention_run(
    kind: Kinds = None,
    days: Annotated[float | None, typer.Option("--days", help="this run's period for the kinds chosen")] = None,
    data_dir: DataDir = None,
) -> None:
    """Archive then purge what is older than each kind's period; prints what each kind archived and purged."""
    with failing_clearly():
        emit([result.as_dict() for result in service(data_dir, days, kind).run(kind)])


@retention_app.command("status")
def retention_status(data_dir: DataDir = None) -> None:
    """Periods, the last run of each kind, totals purged, archive sizes, the oldest stored message."""
    emit(service(data_dir).status())


@retention_app.command("archives")
def retention_archives(
    kind: Annotated[str | None, typer.Option("--kind", help="only this kind")] = None, data_dir: DataDir = None
) -> None:
    """Every archive written: file, kind, time range, rows, bytes, SHA-256, status."""
    emit(service(data_dir).archives(kind))


@retention_app.command("verify")
def retention_verify(
    archive: Annotated[str, typer.Argument(help="an archive file (or its name in the archive directory)")],
    data_dir: DataDir = None,
) -> None:
    """Recompute the checksum and read every line back; exit 1 if anything is wrong."""
    with failing_clearly():
        manifest, problems = service(data_dir).verify(archive)
    emit({"archive": manifest.file, "rows": manifest.rows, "ok": not problems, "problems": problems})
    if problems:
        raise typer.Exit(1)


@retention_app.command("restore-archive")
def retention_restore(
    archive: Annotated[str, typer.Argument(help="an archive file (or its name in the archive directory)")],
    data_dir: DataDir = None,
) -> None:
    """Read a verified archive back into the store (rows still stored are left alone); replay sees it again."""
    with failing_clearly():
        emit(service(data_dir).restore(archive))
