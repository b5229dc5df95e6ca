"""`opendip user ...` and `opendip audit`: portal and admin users from the shell."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from opendip.core.cli import DataDir, cli_actor, emit, fail, open_db
from opendip.errors import DipError

if TYPE_CHECKING:
    from opendip.accounts.directory import Organisations


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise typer.BadParameter("the passwords differ")
    return first


def user_commands(organisations: Callable[[], Organisations]) -> typer.Typer:
    """`opendip user add|list|update`, given the participants domain's organisation directory.

    The entry point hands the directory in, so accounts never imports the
    domain that owns organisations.
    """
    user_app = typer.Typer(help="Portal and admin users: roles, passwords, disabling.", no_args_is_help=True)

    @user_app.command("add")
    def user_add(
        username: str,
        role: Annotated[
            str, typer.Option(help="operator | primary_user_admin | certificate_admin | message_admin | auditor")
        ],
        organisation: Annotated[str | None, typer.Option()] = None,
        name: Annotated[str | None, typer.Option()] = None,
        email: Annotated[str | None, typer.Option()] = None,
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Add a user; the password is prompted for (or read from stdin), never given on the command line."""
        from opendip.accounts.service import UserService

        settings, db = open_db(data_dir)
        try:
            created = UserService(db, settings, organisations()).create(
                cli_actor(),
                username=username,
                password=_password(password_stdin),
                role=role,
                organisation_id=organisation,
                display_name=name,
                email=email,
            )
        except DipError as exc:
            raise fail(exc) from exc
        emit(created)

    @user_app.command("list")
    def user_list(data_dir: DataDir = None) -> None:
        from opendip.accounts.roles import Role
        from opendip.accounts.service import UserService
        from opendip.accounts.viewer import Viewer

        settings, db = open_db(data_dir)
        emit(UserService(db, settings, organisations()).list_for(Viewer("cli", Role.OPERATOR, None)))

    @user_app.command("update")
    def user_update(
        username: str,
        role: Annotated[str | None, typer.Option()] = None,
        disable: Annotated[bool | None, typer.Option("--disable/--enable")] = None,
        password: Annotated[bool, typer.Option("--password", help="set a new password (prompted)")] = False,
        password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Change a user's role, disable or enable them, or reset their password (ends their sessions)."""
        from opendip.accounts.service import UserService

        settings, db = open_db(data_dir)
        new_password = _password(password_stdin) if password or password_stdin else None
        try:
            emit(
                UserService(db, settings, organisations()).update(
                    cli_actor(), username, role=role, disabled=disable, password=new_password
                )
            )
        except DipError as exc:
            raise fail(exc) from exc

    return user_app


def audit_command(
    limit: Annotated[int, typer.Option()] = 50,
    data_dir: DataDir = None,
) -> None:
    """The newest audit log entries: who did what, to what, when and from where."""
    from opendip.core.audit import visible_entries

    _, db = open_db(data_dir)
    emit(visible_entries(db, None, frozenset(), since=None, limit=limit))
