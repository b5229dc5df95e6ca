"""`opendip send`: sign and send a file of messages (or standard input) as a registered participant.

`opendip example IF-043 | opendip send -` works as it reads: `-` is standard
input, and the sender defaults to the first payload's S1.senderDIPID. What a
person can get wrong (no such file, not JSON, no credentials, no hub) is one
line saying what to do, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from opendip.core.cli import DataDir, EnvOption, console, settings_for

STDIN = "-"


def _fail(text: str) -> typer.Exit:
    console.print(f"[red]error:[/] {text}", soft_wrap=True)
    return typer.Exit(2)


def _read(file: str) -> list[dict[str, Any]]:
    """The payloads of a file (or standard input): one payload, an array of them, or a request body."""
    source = "standard input" if file == STDIN else file
    try:
        text = sys.stdin.read() if file == STDIN else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"{source} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    items = data if isinstance(data, list) else [data]
    payloads = [i["payload"] if isinstance(i, dict) and "payload" in i else i for i in items]
    if not payloads or not all(isinstance(p, dict) for p in payloads):
        raise _fail(f"{source}: expected a payload object, an array of them, or a request body")
    return payloads


def _header(payload: dict[str, Any], block: str, field: str) -> str | None:
    try:
        value = payload["CommonBlock"][block][field]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def send(
    file: Annotated[
        str, typer.Argument(help="JSON: one payload, an array of payloads, or a full request body; - reads stdin")
    ],
    as_: Annotated[
        str | None, typer.Option("--as", help="the sending participant's DIP ID (default: S1.senderDIPID)")
    ] = None,
    url: Annotated[str, typer.Option(help="the hub's base URL")] = "http://127.0.0.1:8000",
    interface: Annotated[str | None, typer.Option(help="defaults to the payload's S0.interfaceID")] = None,
    env: EnvOption = None,
    data_dir: DataDir = None,
) -> None:
    """Sign and send messages as a registered participant (of --env); prints the hub's StandardResponse."""
    from opendip.messages.client import Credentials, DipClient

    payloads = _read(file)
    sender = as_ or _header(payloads[0], "S1", "senderDIPID")
    if sender is None:
        raise _fail("the payload names no S1.senderDIPID: say who sends it with --as DIPID")
    interface_id = interface or _header(payloads[0], "S0", "interfaceID")
    if interface_id is None:
        raise _fail("the payload names no S0.interfaceID: say which channel with --interface IF-043")
    settings = settings_for(data_dir, env)
    creds_file = settings.data_dir / "participants" / f"{sender}.json"
    if not creds_file.exists():
        raise _fail(
            f"no credentials for {sender} in {creds_file.parent}: `opendip participant add` makes them "
            "(or point --data-dir at the hub's data directory)"
        )
    import httpx

    try:
        with DipClient(url, Credentials.load(creds_file)) as client:
            response = client.send(interface_id, payloads)
    except httpx.TransportError as exc:
        console.print(
            f"[red]error:[/] no hub answers at {url} ({type(exc).__name__}); "
            "start one with `make run` or `opendip up`, or point --url at it",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    print(json.dumps(response.json(), indent=2))
    console.print(f"HTTP {response.status_code}")
    if response.status_code not in (201, 207):
        raise typer.Exit(1)
