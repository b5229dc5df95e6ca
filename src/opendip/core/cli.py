"""What every `opendip` sub-command shares: the data-directory option, the store, output and failure.

Each domain's commands (participants, pki, accounts, catalogue) use these, and
the `opendip` entry point registers them. Heavy imports stay inside functions
so `opendip --help` stays quick.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from opendip.config import Settings
from opendip.errors import DipError

if TYPE_CHECKING:
    from opendip.core.audit import Actor
    from opendip.db.engine import Database

console = Console(stderr=True)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default .opendip)")]
EnvOption = Annotated[
    str | None, typer.Option("--env", help="an environment the hub hosts (`opendip env list`); default its own")
]


def settings_for(data_dir: Path | None, env: str | None = None) -> Settings:
    """The settings with the data directory the command was given, or the environment's; those of --env's."""
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    if env is None:
        return settings
    from opendip.core.environments import hosted_settings

    try:
        return hosted_settings(settings, env)
    except DipError as exc:
        raise fail(exc) from exc


def open_db(data_dir: Path | None, env: str | None = None) -> tuple[Settings, Database]:
    """The settings and the store, migrated to the newest schema: a command may be the first to run."""
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade

    settings = settings_for(data_dir, env)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    return settings, db


def cli_actor() -> Actor:
    """The operator at this shell, as the audit log names them."""
    from opendip.core.audit import Actor

    return Actor.cli()


def emit(data: Any) -> None:
    """A command's result on standard output, as JSON a script can read."""
    print(json.dumps(data, indent=2, default=str))


def fail(exc: DipError) -> typer.Exit:
    """A refusal on standard error in the DIP's words; the command exits 1."""
    console.print(f"[red]{exc.msg.spec.message}: {exc.help}[/]")
    return typer.Exit(1)


def read_file_or_stdin(path: Path) -> bytes:
    """A file's bytes, or standard input's when the path is `-`."""
    return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()


def sign_in_line(username: str, password: str | None, data_dir: Path) -> str:
    """What `make run` says about signing in: the first operator's password once, later how to reset it."""
    if password is not None:
        return (
            f"[bold yellow]sign in[/] as [bold]{username}[/] with password [bold]{password}[/] "
            "(shown this once; more users: opendip user add NAME --role ROLE)"
        )
    return (
        f"[bold yellow]sign in[/] with this data dir's users (forgotten the password? "
        f"opendip user update {username} --password --data-dir {data_dir})"
    )
