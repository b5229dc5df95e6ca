"""Building valid messages the way a participant's system would, for the demo and for load."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

GSP_GROUPS = ("_A", "_B", "_C", "_D", "_E", "_F", "_G", "_H", "_J", "_K", "_L", "_M", "_N", "_P")
_counter = itertools.count(1)


def dip_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def unique_reference(interface_id: str, sender: str, role: str, now: datetime) -> str:
    return f"S-{interface_id}-{sender}-{role}-{now:%Y%m%d}-{next(_counter):08d}{secrets.token_hex(6)}"


def mpan_core(seed: int) -> str:
    """A 13-digit MPAN core with a valid check digit (the published mod-11 style weights)."""
    body = f"{10 + seed % 90:02d}{seed % 10**10:010d}"
    weights = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
    check = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10
    return body + str(check)


def common_block(
    interface_id: str,
    version: str,
    event: str,
    *,
    sender: str,
    role: str,
    recipients: list[str],
    mpan: str | None = None,
    distributor: str | None = None,
    environment: str = "DEV",
    correlation_id: str | None = None,
    sub_text: str | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    block: dict[str, Any] = {
        "S0": {"interfaceID": interface_id, "schemaVersion": version, "eventCode": f"[{event}]"},
        "S1": {
            "environmentTag": environment,
            "subText": sub_text,
            "senderUniqueReference": unique_reference(interface_id, sender, role, now),
            "senderTimestamp": dip_datetime(now),
            "senderDIPID": sender,
            "senderRoleID": role,
            "senderCorrelationID": correlation_id,
            "DIPConnectionProviderID": None,
        },
    }
    if mpan is not None:
        block["M0"] = {
            "MPANCore": mpan,
            "distributorDIPID": distributor,
            "GSPGroupID": GSP_GROUPS[int(mpan) % 14],
        }
    block["A0"] = {"primaryRecipients": recipients, "secondaryRecipients": [], "always": []}
    return block


def connection_type_change(
    sender: str, role: str, recipients: list[str], *, mpan: str, distributor: str, environment: str = "DEV"
) -> dict[str, Any]:
    """An IF-043 ConnectionTypeChange, as the registration service sends it."""
    effective = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    return {
        "CommonBlock": common_block(
            "IF-043",
            "011",
            "ConnectionTypeChange",
            sender=sender,
            role=role,
            recipients=recipients,
            mpan=mpan,
            distributor=distributor,
            environment=environment,
        ),
        "CustomBlock": {
            "B023": {
                "connectionTypeIndicator": "L",
                "connectionTypeEffectiveFromDate": dip_datetime(effective),
                "energyDirection": "I",
                "meteredIndicator": True,
            }
        },
    }
