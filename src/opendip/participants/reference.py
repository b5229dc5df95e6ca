"""Participants as reference data: copied from one environment's store into another's on a refresh.

A refresh brings the target environment's register in line with the source's:
every source participant exists in the target afterwards, with the source's
role, status and (or an obfuscated) name, and the source's connection-provider
links. Credentials and addresses never travel: API keys, certificates and
webhooks stay the target's own, so a key or certificate of one environment is
never valid in another and no test message is delivered to another
environment's systems. Participants only the target has are kept.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from opendip.db.models import dcp_links, participants


def obfuscated_name(dip_id: str, role: str) -> str:
    """What a refreshed participant is called when names must not travel."""
    return f"{role} participant {dip_id}"


def copy_reference(source: Connection, target: Connection, *, obfuscate: bool = False) -> int:
    """Upsert every source participant into the target (keeping the target's credentials); how many."""
    rows = [dict(r) for r in source.execute(select(participants)).mappings()]
    known = {r[0]: r[1] for r in target.execute(select(participants.c.dip_id, participants.c.default_webhook_url))}
    for row in rows:
        name = obfuscated_name(row["dip_id"], row["role"]) if obfuscate else row["name"]
        if row["dip_id"] in known:
            target.execute(
                update(participants)
                .where(participants.c.dip_id == row["dip_id"])
                .values(role=row["role"], name=name, status=row["status"])
            )
        else:
            target.execute(participants.insert(), {**row, "name": name, "default_webhook_url": None})
    present = {r["dip_id"] for r in rows} | set(known)
    links = [
        (r[0], r[1])
        for r in source.execute(select(dcp_links.c.dcp_dip_id, dcp_links.c.participant_dip_id))
        if r[0] in present and r[1] in present
    ]
    ours = {(r[0], r[1]) for r in target.execute(select(dcp_links.c.dcp_dip_id, dcp_links.c.participant_dip_id))}
    for dcp, participant in links:
        if (dcp, participant) not in ours:
            target.execute(dcp_links.insert(), {"dcp_dip_id": dcp, "participant_dip_id": participant})
    return len(rows)
