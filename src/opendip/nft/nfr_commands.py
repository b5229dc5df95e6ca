"""`opendip nfr report` and `opendip assurance report`: dated reports from the journal, as files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from opendip.config import Settings
from opendip.core.cli import DataDir
from opendip.nft.periods import period

if TYPE_CHECKING:
    from opendip.db.engine import Database

console = Console(stderr=True)
T = TypeVar("T")
nfr_app = typer.Typer(help="NFR compliance of participants' systems, from live traffic.", no_args_is_help=True)

From = Annotated[
    str | None, typer.Option("--from", help="start (UTC date or ISO date-time); default a day before --to")
]
To = Annotated[str | None, typer.Option("--to", help="end, exclusive; default now")]


def _period(start: str | None, end: str | None) -> tuple[float, float]:
    try:
        return period(start, end, time.time())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _read(data_dir: Path | None, compute: Callable[[Database], T]) -> T:
    """Open the hub's database (migrated), compute from it, close it."""
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    db = Database.from_url(settings.effective_database_url)
    try:
        upgrade(db.engine)
        return compute(db)
    finally:
        db.dispose()


@nfr_app.command("report")
def nfr_report(
    participant: Annotated[str, typer.Option("--participant", help="the recipient's DIP ID")],
    out: Annotated[Path, typer.Option("--out", help="directory for nfr.html, nfr.csv and hours.csv")],
    start: From = None,
    end: To = None,
    data_dir: DataDir = None,
) -> None:
    """How a participant's system met the DIP Rules as a recipient: L3 answer times and L4 statuses, per band."""
    from opendip.nft import compliance_report
    from opendip.nft.compliance import ComplianceService

    begin, stop = _period(start, end)
    compliance = _read(data_dir, lambda db: ComplianceService(db).measure(participant, begin, stop, now=time.time()))
    paths = compliance_report.write(compliance, out)
    for line in compliance.lines():
        verdict = (
            "[grey50]NO DATA[/]" if line["measured"] is None else "[green]PASS[/]" if line["pass"] else "[red]FAIL[/]"
        )
        console.print(f"  {verdict} {line['line']}: measured {line['measured']} s over {line['count']}")
    console.print(f"{'compliant' if compliance.passed else 'NOT compliant'}; wrote {', '.join(map(str, paths))}")


assurance_app = typer.Typer(help="The DIP Manager's assurance pack, from the journal.", no_args_is_help=True)


@assurance_app.command("report")
def assurance_report(
    out: Annotated[Path, typer.Option("--out", help="directory for assurance.html and its CSV files")],
    start: From = None,
    end: To = None,
    data_dir: DataDir = None,
) -> None:
    """Volumes against the DIP Rules, peaks, rejections, slow-down, missing statuses, duplicates, requeues, expiries."""
    from opendip.nft import assurance_report as writer
    from opendip.nft.assurance import AssuranceService

    begin, stop = _period(start, end)
    pack = _read(data_dir, lambda db: AssuranceService(db).build(begin, stop, now=time.time()))
    paths = writer.write(pack, out)
    report = pack.as_dict()
    for dip_id, row in report["participants"].items():
        console.print(
            f"  {dip_id}: sent {row['sent']}, received {row['received']}, peak hour {row['peak_hour_received']} "
            f"({row['peak_hour_band']}), rejected {row['rejected']}, overdue {row['overdue']}, "
            f"duplicates {row['duplicates']}, requeued {row['requeued']}"
        )
    downtime = report["downtime"]
    console.print(
        f"{len(report['certificates'])} certificate(s) expired or expiring; {len(report['outages'])} outage(s): "
        f"{downtime['unplanned_seconds']} s unplanned, {downtime['planned_seconds']} s planned"
    )
    console.print(f"wrote {', '.join(map(str, paths))}")
