"""`opendip catalogue import|export|diff` and `opendip validate FILE`.

Commands load what they need lazily so `opendip --help` stays fast. Exit codes:
`validate` 0 when every message is valid, 1 when any is not; `catalogue diff`
0 when nothing breaks existing senders (added or relaxed things only), 1 when a
breaking change is found (like `git diff --exit-code`, so CI can gate a
catalogue release on it); 2 for unusable input anywhere.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from opendip.catalogue.catalogue import Catalogue

catalogue_app = typer.Typer(help="The interface catalogue: list, import, export, diff.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)

CatalogueDir = Annotated[
    Path | None, typer.Option("--catalogue", help="catalogue directory (default: the packaged catalogue)")
]


def _fail(text: str) -> typer.Exit:
    console.print(f"[red]{text}[/]")
    return typer.Exit(2)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise _fail(f"{path}: no such file") from None
    except ValueError as exc:
        raise _fail(f"{path}: not JSON ({exc})") from None


def _catalogue(source: Path | None, environment: str | None = None) -> Catalogue:
    """A catalogue from a directory, from an OpenAPI document (imported on the fly), or the packaged one."""
    from opendip.catalogue import CatalogueError, load_catalogue

    try:
        if source is not None and source.is_file():
            from opendip.catalogue import DEFAULT_DIRECTORY
            from opendip.catalogue.tooling.importer import import_openapi, write_catalogue

            with tempfile.TemporaryDirectory() as folder:
                write_catalogue(import_openapi(_load_json(source)), Path(folder), DEFAULT_DIRECTORY)
                return load_catalogue(Path(folder), environment=environment)
        return load_catalogue(source, environment=environment)
    except CatalogueError as exc:
        raise _fail(str(exc)) from None


@catalogue_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="an OpenAPI 3.0 document in the DIP's published shape")],
    out: Annotated[Path, typer.Option("--out", help="directory to write the catalogue to")] = Path("catalogue"),
) -> None:
    """Turn a published OpenAPI document into catalogue files; lists what it could not map."""
    from opendip.catalogue import DEFAULT_DIRECTORY
    from opendip.catalogue.tooling.importer import import_openapi, write_catalogue

    result = import_openapi(_load_json(file))
    written = write_catalogue(result, out, DEFAULT_DIRECTORY)
    catalogue = _catalogue(out)
    print(f"imported {result.summary()}; wrote {len(written)} files to {out}")
    for line in result.unmapped:
        print(f"not mapped: {line}")
    for name, items in result.examples.items():
        for index, item in enumerate(items):
            payload = item.get("payload") if isinstance(item, dict) else None
            s0 = (payload or {}).get("CommonBlock", {}).get("S0", {}) if isinstance(payload, dict) else {}
            found = catalogue.validate(payload, str(s0.get("interfaceID")), path_prefix=f"$[{index}].payload")
            for issue in found:
                print(f"example {name} does not validate: {issue.path}: {issue.text}")
    print("roles and routing are not in the document: set sender_roles, recipient_roles and routing by hand")


@catalogue_app.command("list")
def list_command(
    catalogue_dir: CatalogueDir = None,
    environment: Annotated[str | None, typer.Option(help="only what this environment accepts today")] = None,
) -> None:
    """Every channel, one tab-separated line each: id, versions, sender and recipient roles, events, name."""
    catalogue = _catalogue(catalogue_dir, environment)
    print("interface\tversions\tsenders\trecipients\tevents\tname")
    for interface in catalogue.interfaces.values():
        versions = ",".join(v for v, spec in sorted(interface.versions.items()) if not spec.retired)
        events = ",".join(interface.event_codes()) or "(open)"
        roles = (",".join(sorted(interface.sender_roles)), ",".join(sorted(interface.recipient_roles)))
        print(f"{interface.id}\t{versions}\t{roles[0]}\t{roles[1]}\t{events}\t{interface.name}")


def export_command(
    app_openapi: dict[str, Any],
    out: Path | None = None,
    catalogue_dir: Path | None = None,
) -> None:
    """Write the hub's API and catalogue as one OpenAPI 3.0 document.

    The entry point registers this as `opendip catalogue export` and hands in
    the application's own OpenAPI document, so the export lists every route the
    hub serves without the catalogue importing the application.
    """
    from opendip.catalogue.tooling.exporter import export_openapi

    document = export_openapi(_catalogue(catalogue_dir), app_openapi=app_openapi)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        console.print(f"wrote {out} ({len(document['paths'])} paths)")


@catalogue_app.command("diff")
def diff_command(
    old: Annotated[Path, typer.Argument(help="old catalogue: a directory or an OpenAPI document")],
    new: Annotated[Path, typer.Argument(help="new catalogue: a directory or an OpenAPI document")],
    as_json: Annotated[bool, typer.Option("--json", help="print the changes as JSON")] = False,
) -> None:
    """List added, removed and changed interfaces, blocks and data items; exit 1 if any breaks senders."""
    from opendip.catalogue.tooling.diff import CatalogueDiff

    result = CatalogueDiff(_catalogue(old), _catalogue(new))
    if as_json:
        rows = [vars(change) for change in result.changes]
        print(json.dumps({"changes": rows, "breaking": len(result.breaking)}, indent=2))
    else:
        for change in result.changes:
            print(change.line())
        print(f"{len(result.changes)} changes, {len(result.breaking)} breaking existing senders")
    if result.breaking:
        raise typer.Exit(1)


def validate(
    file: Annotated[Path, typer.Argument(help="JSON: a request body array, one {payload}, or a bare payload")],
    interface: Annotated[str | None, typer.Option(help="channel (default: each message's S0.interfaceID)")] = None,
    environment: Annotated[str | None, typer.Option(help="also check S1.environmentTag and release dates")] = None,
    catalogue_dir: CatalogueDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the StandardResponse the API would give")] = False,
) -> None:
    """Validate messages against the catalogue without sending them: every error, with path and rule."""
    from opendip.catalogue.service import response_items, validate_item
    from opendip.core.responses import standard_response

    data = _load_json(file)
    items = (
        data
        if isinstance(data, list)
        else [data if isinstance(data, dict) and "payload" in data else {"payload": data}]
    )
    catalogue = _catalogue(catalogue_dir, environment)
    verdicts = []
    for index, item in enumerate(items):
        payload = item.get("payload") if isinstance(item, dict) else None
        s0 = payload.get("CommonBlock", {}).get("S0", {}) if isinstance(payload, dict) else {}
        channel = interface or (s0.get("interfaceID") if isinstance(s0, dict) else None) or "?"
        verdicts.append(validate_item(catalogue, item, index, str(channel).upper(), environment=environment))
    if as_json:
        print(standard_response(response_items(verdicts)).decode())
    else:
        for verdict in verdicts:
            if verdict.valid:
                print(f"$[{verdict.index}]: valid")
                for note in verdict.notices:
                    print(f"$[{verdict.index}]: note: {note}")
            for found in verdict.issues:
                print(f"{found.path}\t{found.rule}\t{found.msg.spec.code}\t{found.text}")
        invalid = sum(not v.valid for v in verdicts)
        print(f"{len(verdicts) - invalid} valid, {invalid} invalid")
    if any(not verdict.valid for verdict in verdicts):
        raise typer.Exit(1)
