"""`opendip cr ...` and `opendip release ...`: change requests and catalogue releases from the shell.

Commands import their services lazily so `opendip --help` stays fast. Exit
codes: 0 done, 1 refused (an illegal move, a gate not met), 2 unusable input.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from opendip.core.cli import DataDir

if TYPE_CHECKING:
    from opendip.core.audit import Actor
    from opendip.governance.releases import ReleaseService
    from opendip.governance.service import ChangeRequestService

cr_app = typer.Typer(help="Change requests: raise, move through the process, timetables, export.", no_args_is_help=True)
release_app = typer.Typer(help="Catalogue releases, environment by environment.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        console.print(f"[red]{option} must be a date YYYY-MM-DD; got {text!r}[/]")
        raise typer.Exit(2) from None


@cr_app.command("timetable")
def timetable_command(
    decision_date: Annotated[str, typer.Option("--decision-date", help="the decision's date, YYYY-MM-DD")],
    implementation_days: Annotated[
        int, typer.Option("--implementation-days", min=0, help="working days from decision to implementation")
    ] = 5,
    consultation_opens: Annotated[
        str | None, typer.Option("--consultation-opens", help="first day of a consultation, YYYY-MM-DD")
    ] = None,
    consultation_days: Annotated[int, typer.Option("--consultation-days", min=1)] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="print the dates as JSON")] = False,
) -> None:
    """Dates in England and Wales working days: implementation after a decision, a consultation's close."""
    from opendip.governance.timetable import timetable

    opens = _date(consultation_opens, "--consultation-opens") if consultation_opens else None
    result = timetable(
        _date(decision_date, "--decision-date"),
        implementation_days=implementation_days,
        consultation_opens=opens,
        consultation_days=consultation_days if opens else None,
    )
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    print(f"decision        {result.decision_date:%a %d %b %Y}")
    print(f"implementation  {result.implementation_date:%a %d %b %Y} ({implementation_days} working days)")
    for day in result.skipped:
        print(f"  skipped {day.date:%a %d %b %Y}: {day.why}")
    if result.consultation_closes is not None:
        print(f"consultation    closes {result.consultation_closes:%a %d %b %Y} ({consultation_days} working days)")


# -- change requests ---------------------------------------------------------------------------------------------

AsRole = Annotated[
    str,
    typer.Option(
        "--as",
        help="the governance role you act in: proposer, dip_manager, service_provider, dcab, authority, participant",
    ),
]


def _requests(data_dir: Path | None) -> ChangeRequestService:
    from opendip.config import Settings
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade
    from opendip.governance.service import ChangeRequestService

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    return ChangeRequestService(db)


def _actor() -> Actor:
    from opendip.core.audit import Actor

    return Actor.cli()


def _run(work: Callable[[], Any]) -> Any:
    """Run a service call; a refusal prints its reason and exits 1."""
    from opendip.errors import DipError

    try:
        return work()
    except DipError as exc:
        console.print(f"[red]{exc.msg.spec.code} {exc.msg.spec.text}: {exc.detail}[/]")
        raise typer.Exit(1) from None


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


@cr_app.command("create")
def cr_create(
    title: Annotated[str, typer.Option("--title")],
    description: Annotated[str, typer.Option("--description")] = "",
    role: AsRole = "proposer",
    data_dir: DataDir = None,
) -> None:
    """Raise a change request (anyone may); prints it as JSON with its reference."""
    service = _requests(data_dir)
    _emit(_run(lambda: service.raise_request(_actor(), role, title=title, description=description)))


@cr_app.command("show")
def cr_show(ref: str, data_dir: DataDir = None) -> None:
    """A change request with its notes, its history from the audit log and the moves open to it."""
    service = _requests(data_dir)
    _emit(_run(lambda: service.get(ref.upper())))


@cr_app.command("move")
def cr_move(
    ref: str,
    to: Annotated[str, typer.Argument(help="the state to move to")],
    role: AsRole,
    note: Annotated[str | None, typer.Option("--note", help="a comment kept with the move")] = None,
    data_dir: DataDir = None,
) -> None:
    """Move a change request on; refused (exit 1) with the allowed moves when the process says no."""
    service = _requests(data_dir)
    _emit(_run(lambda: service.move(_actor(), role, ref.upper(), to, note=note)))


@cr_app.command("classify")
def cr_classify(
    ref: str,
    role: AsRole = "dip_manager",
    cost_dip_manager: Annotated[float, typer.Option("--cost-dip-manager", help="GBP")] = 0.0,
    cost_users: Annotated[float, typer.Option("--cost-users", help="GBP")] = 0.0,
    new_obligations: Annotated[bool, typer.Option("--new-obligations")] = False,
    months: Annotated[float, typer.Option("--months", help="how long the change takes")] = 0.0,
    message_definitions: Annotated[bool, typer.Option("--message-definitions")] = False,
    system_only: Annotated[bool, typer.Option("--system-only", help="no party's systems or processes change")] = False,
    data_dir: DataDir = None,
) -> None:
    """Classify from the impact assessment's figures: system-only, tier 2, tier 1 or message definition."""
    from opendip.governance.classification import Assessment

    found = Assessment(cost_dip_manager, cost_users, new_obligations, months, message_definitions, not system_only)
    service = _requests(data_dir)
    _emit(_run(lambda: service.classify(_actor(), role, ref.upper(), found)))


@cr_app.command("comment")
def cr_comment(ref: str, text: str, role: AsRole = "dip_manager", data_dir: DataDir = None) -> None:
    service = _requests(data_dir)
    _emit(_run(lambda: service.comment(_actor(), role, ref.upper(), text)))


@cr_app.command("attach")
def cr_attach(
    ref: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    role: AsRole = "dip_manager",
    note: Annotated[str, typer.Option("--note")] = "",
    data_dir: DataDir = None,
) -> None:
    import mimetypes

    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    service = _requests(data_dir)
    content = file.read_bytes()
    _emit(
        _run(
            lambda: service.attach(
                _actor(), role, ref.upper(), name=file.name, content=content, content_type=content_type, text=note
            )
        )
    )


@cr_app.command("list")
def cr_list(
    state: Annotated[str | None, typer.Option("--state")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only those with a step past its deadline")] = False,
    data_dir: DataDir = None,
) -> None:
    """The register, one line per change request (JSON with --json via `cr export`)."""
    service = _requests(data_dir)
    rows = service.overdue() if overdue else service.list_requests(state=state)
    for cr in rows:
        late = f"  OVERDUE ({', '.join(cr['overdue'])})" if cr["overdue"] else ""
        print(f"{cr['ref']}\t{cr['state']}\t{cr['classification'] or '-'}\t{cr['title']}{late}")


@cr_app.command("export")
def cr_export(
    fmt: Annotated[str, typer.Option("--format", help="csv | json")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
    data_dir: DataDir = None,
) -> None:
    """The whole change-request register as CSV or JSON."""
    from opendip.governance.export import register_csv, register_json

    if fmt not in ("csv", "json"):
        console.print(f"[red]--format must be csv or json; got {fmt!r}[/]")
        raise typer.Exit(2)
    rows = _requests(data_dir).list_requests()
    text = register_csv(rows) if fmt == "csv" else register_json(rows)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        console.print(f"wrote {len(rows)} change requests to {out}")


# -- catalogue releases ------------------------------------------------------------------------------------------


def _releases(data_dir: Path | None) -> ReleaseService:
    from opendip.catalogue import load_catalogue
    from opendip.config import Settings
    from opendip.governance.releases import ReleaseService

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    requests = _requests(data_dir)
    return ReleaseService(requests.db, requests, load_catalogue(), settings.data_dir / "catalogues")


def _moment(text: str | None) -> float | None:
    """A date (from the start of that day in Great Britain) or an ISO date-time with offset."""
    from opendip.governance.workdays import start_of_day

    if text is None:
        return None
    try:
        if len(text) == 10:
            return start_of_day(dt.date.fromisoformat(text))
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        console.print(f"[red]--effective must be YYYY-MM-DD or an ISO date-time with offset; got {text!r}[/]")
        raise typer.Exit(2) from None
    if moment.tzinfo is None:
        console.print("[red]--effective needs an offset (e.g. 2027-01-05T09:00:00+00:00)[/]")
        raise typer.Exit(2)
    return moment.timestamp()


@release_app.command("register")
def release_register(
    version: str,
    catalogue: Annotated[Path, typer.Option("--catalogue", help="the catalogue directory built for this version")],
    cr: Annotated[str, typer.Option("--cr", help="the message-definition change request it implements")],
    data_dir: DataDir = None,
) -> None:
    """Freeze a catalogue directory as a version linked to its change request; prints the diff."""
    service = _releases(data_dir)
    _emit(_run(lambda: service.register(_actor(), version, catalogue, cr.upper())))


@release_app.command("promote")
def release_promote(
    version: str,
    env: Annotated[str, typer.Option("--env", help="the environment: SIT, UIT, PRD in that order")],
    effective: Annotated[str | None, typer.Option("--effective", help="from when (default now): YYYY-MM-DD")] = None,
    lookback_days: Annotated[float, typer.Option("--lookback-days", help="replay N days of messages")] = 30,
    preview: Annotated[bool, typer.Option("--preview", help="show the diff and the impact only")] = False,
    data_dir: DataDir = None,
) -> None:
    """Promote a version to an environment when its change request allows; shows the diff and refused senders."""
    service = _releases(data_dir)
    at = _moment(effective)
    if preview:
        _emit(_run(lambda: service.preview(version, env, effective=at, lookback_days=lookback_days)))
        return
    report = _run(lambda: service.promote(_actor(), version, env, effective=at, lookback_days=lookback_days))
    _emit(report)
    for sender in report["impact"]["senders"]:
        console.print(f"[yellow]{sender['sender']}: {sender['refused']} of {sender['checked']} would be refused[/]")


@release_app.command("rollback")
def release_rollback(
    env: Annotated[str, typer.Option("--env", help="the environment to roll back")], data_dir: DataDir = None
) -> None:
    """Serve again, from now, the version the last promotion replaced (one action, journalled)."""
    service = _releases(data_dir)
    _emit(_run(lambda: service.rollback(_actor(), env)))


@release_app.command("list")
def release_list(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
) -> None:
    """Versions, what each environment serves now and later, and the ledger of promotions and rollbacks."""
    service = _releases(data_dir)
    found = {"environments": service.status(), "versions": service.list_versions(), "ledger": service.ledger()}
    if as_json:
        _emit(found)
        return
    for env in found["environments"]:
        later = ", ".join(
            f"{s['version']} from {dt.datetime.fromtimestamp(s['from'], dt.UTC):%Y-%m-%d %H:%M}Z"
            for s in env["scheduled"]
        )
        print(f"{env['environment']}\tserving {env['serving']}" + (f"\tthen {later}" if later else ""))
    for row in found["ledger"]:
        moment = dt.datetime.fromtimestamp(row["effective_from"], dt.UTC)
        what = f"{row['environment']}\t{row['action']}\t{row['version']}"
        print(f"#{row['id']}\t{what}\tfrom {moment:%Y-%m-%d %H:%M}Z\t{row['cr_ref'] or ''}")
