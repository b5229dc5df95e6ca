"""Who is in the simulated market: a realistic cast of participants, one per role and area.

Several suppliers, a distributor for each GSP group, smart and advanced
metering and data services, the registration service, settlement (ECS), the
enquiry service, the DCC and BSCCo. DIP IDs are stable across runs so a data
directory can be reused.
"""

from __future__ import annotations

from opendip.simulator.state import GSP_GROUPS, Participant

SUPPLIERS = (("Northern Lights Energy", "NLEN"), ("Harbour Power", "HRBP"), ("Greenfield Supply", "GRFS"))
SERVICES = (
    ("REGS", "Registration Service", "REGS"),
    ("MSS", "Smart Metering Service", "SMTS"),
    ("MSA", "Advanced Metering Service", "ADVM"),
    ("SDS", "Smart Data Service", "SDSV"),
    ("ADS", "Advanced Data Service", "ADSV"),
    ("UMSO", "Unmetered Supplies Operator", "UMSO"),
    ("UMSDS", "Unmetered Supplies Data Service", "UMDS"),
    ("ECS", "Elexon Central Services (settlement)", "ECSS"),
    ("EES", "Electricity Enquiry Service", "EESV"),
    ("DCC", "Data Communications Company", "DCCO"),
    ("BSC", "BSCCo", "BSCC"),
)
# The first digits of a DIP ID tell the role, as in the hub's demo cast.
PREFIX = {
    "SUP": "23",
    "LDSO": "11",
    "REGS": "10",
    "MSS": "12",
    "MSA": "13",
    "SDS": "14",
    "ADS": "15",
    "UMSO": "16",
    "UMSDS": "17",
    "ECS": "18",
    "EES": "19",
    "DCC": "20",
    "BSC": "21",
}


def dip_id(role: str, number: int) -> str:
    return f"{PREFIX[role]}{number:08d}"


def standard(suppliers: int = 3, groups: tuple[str, ...] = GSP_GROUPS) -> list[Participant]:
    """The cast `opendip market` runs: every role, a distributor per GSP group."""
    cast = [
        Participant(dip_id("SUP", n), "SUP", name, mpid)
        for n, (name, mpid) in enumerate(SUPPLIERS[:suppliers], start=900)
    ]
    cast += [
        Participant(dip_id("LDSO", n), "LDSO", f"Distributor {group}", f"DN{chr(64 + n)}O", gsp_group=group)
        for n, group in enumerate(groups, start=1)
    ]
    cast += [Participant(dip_id(role, 1), role, name, mpid) for role, name, mpid in SERVICES]
    return cast
