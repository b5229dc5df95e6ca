"""`opendip tracking ...`: test cases, cohorts, runs, defects and the steering report from the shell.

Exit codes: 0 done, 1 refused (an unknown case, an illegal defect move), 2 unusable input.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opendip.core.cli import DataDir, cli_actor, console, emit, open_db

if TYPE_CHECKING:
    from opendip.tracking.service import TrackingService

tracking_app = typer.Typer(help="Test tracking: cases, cohorts, runs, defects, RAG and criteria.", no_args_is_help=True)
cases_app = typer.Typer(help="Test cases (and phases, cohorts) from plan files.", no_args_is_help=True)
cohort_app = typer.Typer(help="Cohorts of participants going through a test phase.", no_args_is_help=True)
run_app = typer.Typer(help="Test runs: recorded by hand or from a scenario run's evidence.", no_args_is_help=True)
defect_app = typer.Typer(help="Defects: raise, move through their states, list.", no_args_is_help=True)
for _sub, _name in ((cases_app, "cases"), (cohort_app, "cohort"), (run_app, "run"), (defect_app, "defect")):
    tracking_app.add_typer(_sub, name=_name)


def _service(data_dir: Path | None) -> TrackingService:
    from opendip.tracking.parts import build_tracking

    settings, db = open_db(data_dir)
    return build_tracking(settings, db)


def _run(work: Callable[[], Any]) -> Any:
    from opendip.errors import DipError

    try:
        return work()
    except DipError as exc:
        console.print(f"[red]{exc.msg.spec.code} {exc.msg.spec.message}: {exc.detail}[/]", soft_wrap=True)
        raise typer.Exit(1) from None


def _read(work: Callable[[], Any], where: str = "") -> Any:
    """Parse what the command was given; unusable input prints the path and the rule and exits 2."""
    from opendip.errors import DipError

    try:
        return work()
    except DipError as exc:
        console.print(f"[red]{where}{exc.detail}[/]", soft_wrap=True)
        raise typer.Exit(2) from None


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        console.print(f"[red]{option} must be a date YYYY-MM-DD; got {text!r}[/]", soft_wrap=True)
        raise typer.Exit(2) from None


@cases_app.command("import")
def cases_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a YAML plan or a CSV of cases")],
    data_dir: DataDir = None,
) -> None:
    """Import phases (with entry and exit criteria), test cases and cohorts; same names are replaced."""
    from opendip.tracking.plan import load_plan

    fmt = "csv" if file.suffix.lower() == ".csv" else "yaml"
    plan = _read(lambda: load_plan(file.read_text(encoding="utf-8"), fmt), f"{file}: ")
    service = _service(data_dir)
    emit(_run(lambda: service.import_plan(cli_actor(), plan)))


@cases_app.command("list")
def cases_list(data_dir: DataDir = None) -> None:
    for case in _service(data_dir).cases():
        scenarios = " ".join(case["scenarios"]) or "-"
        print(f"{case['id']}\t{case['phase']}\tP{case['priority']}\t{case['process']}\t{case['title']}\t{scenarios}")


@cohort_app.command("add")
def cohort_add(
    name: str,
    phase: Annotated[str, typer.Option("--phase", help="the test phase, e.g. SIT")],
    starts: Annotated[str, typer.Option("--starts", help="first planned day, YYYY-MM-DD")],
    ends: Annotated[str, typer.Option("--ends", help="last planned day, YYYY-MM-DD")],
    member: Annotated[list[str] | None, typer.Option("--member", help="a participant's DIP ID (repeat)")] = None,
    role: Annotated[str | None, typer.Option("--role", help="market role: only cases for it apply")] = None,
    env: Annotated[str | None, typer.Option("--env", help="count only runs in this environment")] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    data_dir: DataDir = None,
) -> None:
    """Form (or extend) a cohort: members are added, never dropped (see `cohort remove`)."""
    from opendip.tracking.plan import cohort_of

    raw = {"name": name, "phase": phase, "starts": starts, "ends": ends, "members": member or []}
    raw |= {k: v for k, v in (("role", role), ("environment", env), ("title", title)) if v}
    cohort = _read(lambda: cohort_of(raw, "$"))
    service = _service(data_dir)
    emit(_run(lambda: service.add_cohort(cli_actor(), cohort)))


@cohort_app.command("remove")
def cohort_remove(name: str, dip_id: str, data_dir: DataDir = None) -> None:
    service = _service(data_dir)
    emit(_run(lambda: service.remove_member(cli_actor(), name, dip_id)))


@cohort_app.command("show")
def cohort_show(name: str, data_dir: DataDir = None) -> None:
    service = _service(data_dir)
    emit(_run(lambda: service.cohort(name)))


@run_app.command("record")
def run_record(
    case: str,
    dip_id: str,
    status: Annotated[str, typer.Option("--status", help="passed, failed or blocked")],
    note: Annotated[str, typer.Option("--note", help="what was seen (required)")],
    evidence: Annotated[str | None, typer.Option("--evidence", help="where the evidence is")] = None,
    env: Annotated[str | None, typer.Option("--env", help="the environment it ran in")] = None,
    data_dir: DataDir = None,
) -> None:
    """Record a manual result of a case for a participant."""
    service = _service(data_dir)
    emit(
        _run(
            lambda: service.record_run(cli_actor(), case, dip_id, status, note=note, evidence=evidence, environment=env)
        )
    )


@run_app.command("import")
def run_import(
    evidence: Annotated[Path, typer.Argument(help="an evidence pack directory (with results.json)")],
    participant: Annotated[str, typer.Option("--participant", help="the DIP ID the run tested")],
    data_dir: DataDir = None,
) -> None:
    """Record the cases proven (or not) by a scenario run's evidence pack."""
    service = _service(data_dir)
    found = record_evidence(service, evidence, participant)
    emit(found)


def record_evidence(service: TrackingService, evidence: Path, participant: str) -> dict[str, Any]:
    """Read `results.json` of an evidence pack and record a run for every case it proves."""
    import orjson

    try:
        results = orjson.loads((evidence / "results.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        console.print(f"[red]{evidence}: no readable results.json ({exc})[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    found: dict[str, Any] = _run(lambda: service.record_results(cli_actor(), results, participant, str(evidence)))
    for run in found["recorded"]:
        console.print(f"recorded {run['case']} {run['status']} for {participant} (run {run['id']})")
    for skipped in found["skipped"]:
        console.print(f"[yellow]not recorded {skipped['case']}: {skipped['reason']}[/]")
    if not found["recorded"] and not found["skipped"]:
        console.print("[yellow]no test case links the scenarios of this run[/]")
    return found


@run_app.command("list")
def run_list(
    case: Annotated[str | None, typer.Option("--case")] = None,
    participant: Annotated[str | None, typer.Option("--participant")] = None,
    data_dir: DataDir = None,
) -> None:
    emit(_service(data_dir).runs(case_id=case, dip_id=participant))


@defect_app.command("raise")
def defect_raise(
    title: Annotated[str, typer.Option("--title")],
    severity: Annotated[int, typer.Option("--severity", help="1 critical, 2 high, 3 medium, 4 low")],
    run: Annotated[int | None, typer.Option("--run", help="the failed run it was seen in")] = None,
    case: Annotated[str | None, typer.Option("--case")] = None,
    participant: Annotated[str | None, typer.Option("--participant")] = None,
    transaction: Annotated[str | None, typer.Option("--transaction", help="a message's transactionID")] = None,
    cohort: Annotated[str | None, typer.Option("--cohort")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    data_dir: DataDir = None,
) -> None:
    """Raise a defect; from a run it takes that run's case, participant, evidence and last transactionID."""
    service = _service(data_dir)
    emit(
        _run(
            lambda: service.raise_defect(
                cli_actor(),
                title,
                severity,
                description=description,
                owner=owner,
                case_id=case,
                run_id=run,
                transaction_id=transaction,
                dip_id=participant,
                cohort=cohort,
            )
        )
    )


@defect_app.command("move")
def defect_move(
    ref: str,
    to: Annotated[str, typer.Argument(help="open, investigating, fixed, retested, closed or rejected")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    data_dir: DataDir = None,
) -> None:
    service = _service(data_dir)
    emit(_run(lambda: service.move_defect(cli_actor(), ref.upper(), to, note=note, owner=owner)))


def retest_plan(ref: str, data_dir: Path | None, *, report: bool = False) -> tuple[list[Path], str]:
    """The scenario files and participant a defect is re-tested with (its case's, its own); exit 2 if it has none.

    With `report`, say the state the defect is in now (after the re-test's run was recorded).
    """
    service = _service(data_dir)
    defect = _run(lambda: service.defect(ref))
    case = next((c for c in service.cases() if c["id"] == defect["case"]), None)
    service.db.dispose()
    if report:
        console.print(f"{ref} is {defect['state']}")
        return [], ""
    if case is None or not case["scenarios"] or not defect["dipId"]:
        console.print(f"[red]{ref} names no test case with scenarios and a participant: re-test it by hand[/]")
        raise typer.Exit(2)
    if defect["state"] != "fixed":
        console.print(f"[yellow]{ref} is {defect['state']}, not fixed: the run is recorded but moves it nowhere[/]")
    return [Path(p) for p in case["scenarios"]], defect["dipId"]


@defect_app.command("show")
def defect_show(ref: str, data_dir: DataDir = None) -> None:
    service = _service(data_dir)
    emit(_run(lambda: service.defect(ref.upper())))


@defect_app.command("list")
def defect_list(
    open_only: Annotated[bool, typer.Option("--open", help="only defects not closed or rejected")] = False,
    data_dir: DataDir = None,
) -> None:
    for d in _service(data_dir).defects(open_only=open_only):
        print(f"{d['ref']}\tS{d['severity']}\t{d['state']}\t{d['dipId'] or '-'}\t{d['case'] or '-'}\t{d['title']}")


@tracking_app.command("report")
def report(
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV: one row per cohort and per participant")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the whole report as JSON")] = False,
    on: Annotated[str | None, typer.Option("--date", help="judge RAG as on this day (default today)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write to a file instead of standard output")] = None,
    env: Annotated[str | None, typer.Option("--env", help="only the cohorts testing in this environment")] = None,
    data_dir: DataDir = None,
) -> None:
    """Per cohort and participant: progress, RAG, entry and exit criteria met or not (and why), open defects."""
    from opendip.tracking.export import report_csv, report_json

    found = _service(data_dir).report(_date(on, "--date") if on else None, env)
    if as_csv or as_json:
        text = report_csv(found) if as_csv else report_json(found)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
        return
    for cohort in found["cohorts"]:
        print(_line(cohort["name"], cohort, f"{cohort['phase']} {cohort['starts']}..{cohort['ends']}"))
        for p in cohort["participants"]:
            print("  " + _line(p["dipId"], p, ""))


def _line(name: str, figures: dict[str, Any], extra: str) -> str:
    gates = (
        f"entry {'met' if figures['entry']['met'] else 'UNMET'}, exit {'met' if figures['exit']['met'] else 'UNMET'}"
    )
    done = f"{figures['passed']}/{figures['planned']} passed ({figures['passRate']}%)"
    return f"{name}\t{figures['rag']}\t{done}\t{gates}\t{extra}".rstrip()
