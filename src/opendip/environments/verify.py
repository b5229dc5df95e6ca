"""Is an environment ready? Connectivity proving of every participant and the catalogue it serves, logged.

Run after a create, refresh or reset (`opendip env verify NAME`): each active
participant of the environment is proved as `opendip prove` proves it
(certificate, webhook, a test message acknowledged, a message received from
it lately), the catalogue version in effect is named, and the verdict with
its reasons goes into the environment log where testers read it. A smoke
scenario against the environment is one command more:
`opendip scenario run scenarios/change-of-supplier.yaml --hub URL --env NAME`.
"""

from __future__ import annotations

from typing import Any

from opendip.core.audit import Actor
from opendip.environments.service import EnvironmentService
from opendip.participants.repository import all_participants
from opendip.pki.authority import trust_store
from opendip.proving.service import ProvingService


async def verify(
    service: EnvironmentService, name: str, actor: Actor, *, received_within_seconds: float = 7 * 86400
) -> dict[str, Any]:
    env, db = service.open(name)
    try:
        with db.engine.connect() as conn:
            active = [p["dip_id"] for p in all_participants(conn) if p["status"] == "active"]
        proving = ProvingService.for_hub(db, env.settings, trust_store(env.settings))
        records = [
            await proving.prove(dip_id, actor=actor, received_within_seconds=received_within_seconds)
            for dip_id in active
        ]
    finally:
        if db is not service.db:
            db.dispose()
    catalogue = service.serving(env.catalogue_of)
    failing = {
        r.dip_id: "; ".join(f"{c.name}: {c.detail}" for c in r.checks if not c.passed) for r in records if not r.passed
    }
    ready = bool(records) and not failing
    summary = (
        f"{'ready' if ready else 'NOT ready'}: catalogue {catalogue}; "
        f"{len(records) - len(failing)} of {len(records)} participants proved"
        + ("".join(f"; {dip_id} failed ({why})" for dip_id, why in failing.items()))
    )
    service.log(env.name, "verified", summary, actor)
    return {
        "environment": env.name,
        "ready": ready,
        "catalogueVersion": catalogue,
        "participants": {r.dip_id: r.passed for r in records},
        "failures": failing,
        "summary": summary,
    }
