"""`opendip example IF-043 [--event E] [--as DIPID]`: a valid message to send, addressed to this hub's participants.

Built from the catalogue (opendip.catalogue.builder), then made real: sent
as a registered participant that may send on the channel, addressed to the
registered participants with a recipient role, an MPAN with a valid check
digit whose distributor is a registered LDSO, today's timestamps. It is
validated before it is printed, so what comes out is what the hub accepts.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from opendip.core.cli import DataDir

console = Console(stderr=True, soft_wrap=True)


def _fail(text: str) -> typer.Exit:
    console.print(f"[red]error:[/] {text}")
    return typer.Exit(2)


def example(
    interface_id: Annotated[str, typer.Argument(help="the channel, e.g. IF-043")],
    event: Annotated[str | None, typer.Option("--event", help="event code (default: the channel's first)")] = None,
    as_: Annotated[str | None, typer.Option("--as", help="the sender's DIP ID (default: one that may send)")] = None,
    full: Annotated[bool, typer.Option("--full", help="every optional block and field too")] = False,
    data_dir: DataDir = None,
) -> None:
    """Print a valid request body for a channel, addressed to registered participants; pipe it to `opendip send`."""
    from opendip.catalogue import load_catalogue
    from opendip.config import Settings
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade
    from opendip.participants.registry import Registry

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    catalogue = load_catalogue(environment=settings.environment_tag)
    interface = catalogue.interface(interface_id.upper())
    if interface is None:
        raise _fail(f"no channel {interface_id}; `opendip catalogue list` shows them all")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    try:
        participants = list(Registry(db).reload().participants.values())
    finally:
        db.dispose()
    active = [p for p in participants if p.active]
    sender = _sender(interface.id, sorted(interface.sender_roles), active, as_)
    body = build(catalogue, interface.id, event, sender.dip_id, sender.role, active, settings.environment_tag, full)
    print(json.dumps(body, indent=2))


def _sender(interface_id: str, roles: list[str], active: list[Any], wanted: str | None) -> Any:
    if wanted is not None:
        found = next((p for p in active if p.dip_id == wanted), None)
        if found is None:
            raise _fail(f"{wanted} is not an active registered participant (`opendip participant list`)")
        if found.role not in roles:
            raise _fail(f"{wanted} is a {found.role}; {interface_id} is sent by {', '.join(roles)}")
        return found
    found = next((p for p in active if p.role in roles), None)
    if found is None:
        raise _fail(
            f"no registered participant may send {interface_id} (sent by {', '.join(roles)}); "
            f"add one: opendip participant add --dip-id ... --role {roles[0]} --name ..."
        )
    return found


def build(
    catalogue: Any,
    interface_id: str,
    event_code: str | None,
    sender: str,
    role: str,
    participants: list[Any],
    environment: str,
    full: bool = False,
) -> list[dict[str, Any]]:
    """A request body (one message) the hub accepts now, or a clear failure naming what is missing."""
    from opendip.catalogue.builder import PayloadBuilder
    from opendip.simulator.examples import GSP_GROUPS, dip_datetime, mpan_core, unique_reference

    interface = catalogue.interface(interface_id)
    codes = interface.event_codes()
    if event_code is not None and event_code.strip("[]") not in codes and codes:
        raise _fail(f"{interface_id} has no event {event_code}; it has {', '.join(codes)}")
    builder = PayloadBuilder(catalogue, sender_dip_id=sender)
    recipients = sorted(p.dip_id for p in participants if p.role in interface.recipient_roles and p.dip_id != sender)
    distributor = next((p.dip_id for p in participants if p.role == "LDSO"), None)
    now = datetime.now(UTC)
    problems: list[str] = []
    for version in sorted(interface.versions, reverse=True):
        spec = interface.versions[version]
        wanted = (event_code or (codes[0] if codes else "*")).strip("[]")
        definition = spec.events.get(wanted) or spec.events.get("*")
        if definition is None:
            continue
        payload = builder.payload(interface, version, definition, full=full, role=role)
        common = payload["CommonBlock"]
        if definition.code == "*" and wanted != "*":
            common["S0"]["eventCode"] = f"[{wanted}]"
        common["S1"].update(  # optional references left empty: a real one must name a real earlier message
            subText=None,
            senderCorrelationID=None,
            DIPConnectionProviderID=None,
            environmentTag=environment,
            senderTimestamp=dip_datetime(now),
            senderUniqueReference=unique_reference(interface_id, sender, role, now),
        )
        if interface.mpan_based:
            mpan = mpan_core(secrets.randbelow(10**9))
            block = common[catalogue.common.mpan_block]
            block.update(MPANCore=mpan, GSPGroupID=GSP_GROUPS[int(mpan) % 14])
            if distributor is not None:
                block["distributorDIPID"] = distributor
        common["A0"] = {**common.get("A0", {}), "primaryRecipients": recipients}
        common["A0"].setdefault("secondaryRecipients", [])
        common["A0"].setdefault("always", [])
        found = catalogue.validate(payload, interface_id, path_prefix="$[0].payload")
        if not found:
            return [{"payload": payload}]
        problems = [f"{i.path}: {i.text}" for i in found]
    raise _fail(f"no valid example of {interface_id} today: " + "; ".join(problems[:3]))
