"""The assurance pack's indicators, from journal rows and certificates the hub's own writers record."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert

from opendip.core.journal import Expectation, Inbound, InboundFlag, Outbound, Replay, Stage, entry, record
from opendip.db.engine import Database
from opendip.db.models import certificates, messages, participants
from opendip.nft import assurance_report
from opendip.nft.assurance import AssuranceService
from opendip.ops.service import OpsService

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
DAY1, DAY2 = 1_800_000_000.0 - 1_800_000_000.0 % 86400, 1_800_000_000.0 - 1_800_000_000.0 % 86400 + 86400


def message(tx: str, at: float, interface: str = "IF-043") -> dict[str, object]:
    return {
        "transaction_id": tx, "interface_id": interface, "event_code": "[ConnectionTypeChange]",
        "schema_version": "011", "sender_dip_id": REGS, "sender_role": "REGS",
        "sender_unique_reference": f"S-{tx}", "correlation_id": None, "connection_provider_id": None,
        "mpan": None, "environment_tag": "DEV", "content_hash": tx, "received_at": at, "payload": b"{}",
    }  # fmt: skip


def certificate(serial: str, not_after: float) -> dict[str, object]:
    fingerprint = serial * 32
    return {"fingerprint": fingerprint, "dip_id": SUP, "serial": serial, "issuer": "CA", "not_before": DAY1,
            "not_after": not_after, "pem": ""}  # fmt: skip


def out(tx: str, at: float, status: str, who: str = SUP, attempt: int = 1, ms: float = 10.0) -> dict[str, object]:
    return entry(tx, Stage.OUTBOUND, status, at=at, recipient=who, duration_ms=ms, attempt=attempt, http_status=201)


def test_indicators_per_participant_and_interface_with_trends(db: Database, tmp_path: Path) -> None:
    msgs, rows = [], []
    for n in range(30):  # day 1: 30 messages, busy hour 10:00 (20 of them) answered slowly
        at = DAY1 + (10 * 3600 if n < 20 else 14 * 3600) + n
        tx = f"T-{n}"
        msgs.append(message(tx, at))
        rows += [
            entry(tx, Stage.INBOUND, Inbound.GOOD_TO_GO, at=at),
            out(tx, at + 1, Outbound.DELIVERED, ms=500 if n < 20 else 20),
        ]
    for n in range(30, 40):  # day 2: 10 messages, one rejected, one flagged duplicate, one L4 overdue
        at = DAY2 + 3600 + n
        tx = f"T-{n}"
        msgs.append(message(tx, at, "IF-044"))
        rows += [entry(tx, Stage.INBOUND, Inbound.GOOD_TO_GO, at=at), out(tx, at + 1, Outbound.DELIVERED)]
    rows += [
        out("T-30", DAY2 + 3700, Outbound.REJECTED_BY_RECIPIENT, LDSO),
        entry("T-31", Stage.INBOUND, InboundFlag.DUPLICATE_CONTENT, at=DAY2 + 3601),
        entry("T-32", Stage.EXPECTATION, Expectation.OVERDUE, at=DAY2 + 7200, recipient=SUP),
        out("T-33", DAY2 + 3800, Outbound.DELIVERED, attempt=2),  # delivered twice, not requeued
        entry("T-34", Stage.REPLAY, Replay.REQUEUED, at=DAY2 + 3900, recipient=SUP),
        out("T-34", DAY2 + 3901, Outbound.DELIVERED, attempt=2),  # redelivered on purpose: not a duplicate
        out("T-35", DAY2 + 3902, Outbound.UNKNOWN_DELIVERY_STATUS, LDSO),
    ]
    with db.begin() as conn:
        conn.execute(insert(messages), msgs)
        record(conn, rows)
        conn.execute(insert(participants), [{"dip_id": SUP, "role": "SUP", "name": "S", "created_at": DAY1}])
        conn.execute(
            insert(certificates), [certificate("01", DAY2 + 11 * 86400), certificate("02", DAY2 + 400 * 86400)]
        )
    clock = iter([DAY2 + 100.0, DAY2 + 100.0, DAY2 + 220.0, DAY2 + 220.0])
    ops = OpsService(db, clock=lambda: next(clock))
    assert ops.probe(threshold=30) is None
    assert ops.probe(threshold=30) is not None  # two minutes without a probe: the hub's record of an outage
    built = AssuranceService(db).build(DAY1, DAY2 + 86400, now=DAY2 + 86400)
    written = assurance_report.write(built, tmp_path / "pack")
    assert [p.name for p in written] == [
        "assurance.html", "participants.csv", "interfaces.csv", "daily.csv", "certificates.csv", "outages.csv"
    ]  # fmt: skip
    assert "120.0,unplanned" in (tmp_path / "pack" / "outages.csv").read_text()
    assert (tmp_path / "pack" / "assurance.html").read_text().count("<svg") == 2
    pack = built.as_dict()
    regs, sup, ldso = (pack["participants"][k] for k in (REGS, SUP, LDSO))
    assert (regs["sent"], regs["duplicates"]) == (40, 1)
    assert sup["received"] == 40 and sup["peak_hour_received"] == 20 and sup["peak_hour_band"] == "up to average"
    assert sup["overdue"] == 1 and sup["delivered_twice"] == 1 and sup["requeued"] == 1
    assert sup["busy_p90_ms"] == pytest.approx(500, rel=1e-2) and sup["ratio"] is not None and sup["ratio"] > 1
    assert (ldso["rejected"], ldso["wrong_answers"], ldso["rejection_rate"]) == (1, 1, 0.5)
    assert pack["interfaces"]["IF-043"]["sent"] == 30 and pack["interfaces"]["IF-044"]["sent"] == 10
    assert [c["serial"] for c in pack["certificates"]] == ["01"] and pack["certificates"][0]["state"] == "expiring"
    assert [d["day"] for d in pack["hub_daily"]] == sorted({d["day"] for d in pack["daily"]}) and len(
        pack["hub_daily"]
    ) == 2
    assert pack["trends"]["sent"] == {"first_half_per_day": 30.0, "second_half_per_day": 10.0, "change_pct": -66.7}
    assert [(o["seconds"], o["kind"]) for o in pack["outages"]] == [(120.0, "unplanned")]
    assert pack["downtime"]["unplanned_seconds"] == 120.0 and pack["downtime"]["planned_seconds"] == 0.0
    assert pack["downtime"]["served"] == pytest.approx(1 - 120 / (2 * 86400))
