"""A small market for portal tests: the real hub process, real webhook receivers, real signed messages.

Built once per database and shared by the portal tests (it takes a few
seconds: 370 messages, more than the 350 rows the real DIP portal stops at).
What it contains, so tests can name it:

- REGS sends IF-043 and IF-044. SUP and LDSO have healthy receivers, except
  that LDSO rejects (207, MSG1001) the message for MPAN `FAIL_MPAN`.
- SUP2 has no webhook: its delivery is held (Outbound Paused) and stays pending.
- SUP3's webhook is a closed port: its first attempt fails and, with the
  breaker threshold at 1, its circuit opens for ten minutes (stays pending).
- SUP4's certificate expires in 10 days; SUP2's is revoked.
- One IF-043 is refused at Inbound (a bad connectionTypeIndicator).
- A bulk of 360 IF-043 messages to SUP, sent a second after the rest.

`World.truth()` re-reads the raw rows (truth.py) to say which messages a
filter should show, in plain Python, independently of the portal's SQL.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import text

from opendip.messages.client import Credentials, DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.portal.query import iso_second
from opendip.simulator.examples import common_block, connection_type_change, dip_datetime, mpan_core
from opendip.simulator.receiver import accept_all
from tests.helpers.hub import OPENDIP, START_TIMEOUT, HubProcess, free_port, wait_until_ready
from tests.helpers.receivers import ThreadedReceiver
from tests.portal.truth import Truth

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
SUP2, SUP3, SUP4 = "2300000901", "2300000902", "2300000903"
OK_MPANS = (mpan_core(1), mpan_core(2), mpan_core(3))
FAIL_MPAN, PENDING_MPAN, DEAD_MPAN = mpan_core(4), mpan_core(5), mpan_core(6)
BULK = 360
SCRIPT_SUBTEXT = "<script>alert('portal')</script>"


@dataclass
class World:
    hub: HubProcess
    regs: Credentials
    receivers: list[ThreadedReceiver]
    tx: dict[str, str] = field(default_factory=dict)
    """Named transactions: ok1..ok3, fail, pending, dead, seg1, seg2, rejected."""
    bulk: list[str] = field(default_factory=list)
    frozen: dict[str, str] = field(default_factory=dict)
    """A dashboard window holding exactly the scenario, whatever tests send afterwards."""

    @property
    def base(self) -> str:
        return self.hub.base_url

    def client(self) -> DipClient:
        return DipClient(self.base, self.regs)

    def truth(self) -> Truth:
        return Truth.read(self.hub)

    def send(self, payloads: list[dict[str, Any]], interface: str = "IF-043") -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.send(interface, payloads)
        assert response.status_code in (201, 207, 400), response.text
        return list(response.json()["messageArray"])

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until every delivery that can finish has finished (SUP2 and SUP3 stay pending by design)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.hub.db.engine.connect() as conn:
                busy = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND recipient_dip_id NOT IN (:a, :b)"
                    ),
                    {"a": SUP2, "b": SUP3},
                ).scalar()
                dead_tried = conn.execute(
                    text("SELECT COUNT(*) FROM journal WHERE status = 'DeliveryFailure'")
                ).scalar()
                held = conn.execute(text("SELECT COUNT(*) FROM journal WHERE status = 'Paused'")).scalar()
            if busy == 0 and dead_tried and held:
                return
            time.sleep(0.1)
        raise AssertionError(f"deliveries did not settle:\n{self.hub.log_path.read_text()[-3000:]}")


def rejecting(mpan: str) -> Any:
    """A recipient that takes everything except the message for one MPAN, which it rejects (207)."""

    def behaviour(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        items = []
        for m in messages:
            common = m["payload"]["CommonBlock"]
            bad = common["M0"]["MPANCore"] == mpan
            items.append(
                {
                    "transactionID": common["D0"]["transactionID"],
                    "message": "MSG1001 - Schema Failure" if bad else "MSG0000 - Success",
                    "help": "B023.connectionTypeIndicator not accepted by this distributor" if bad else None,
                }
            )
        if not any(i["message"].startswith("MSG1001") for i in items):
            return accept_all(messages)
        return 207, orjson.dumps({"messageArray": items, "timestamp": dip_datetime(datetime.now(UTC))})

    return behaviour


def ctc(mpan: str, recipients: list[str], *, sub_text: str | None = None) -> dict[str, Any]:
    payload = connection_type_change(REGS, "REGS", recipients, mpan=mpan, distributor=LDSO)
    payload["CommonBlock"]["S1"]["subText"] = sub_text
    return payload


def segment_change(mpan: str, recipients: list[str]) -> dict[str, Any]:
    """An IF-044 MarketSegmentChange from the registration service."""
    day = dip_datetime(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
    common = common_block(
        "IF-044", "011", "MarketSegmentChange", sender=REGS, role="REGS", recipients=recipients, mpan=mpan,
        distributor=LDSO,
    )  # fmt: skip
    return {
        "CommonBlock": common,
        "CustomBlock": {
            "B026": {"marketSegmentIndicator": "A", "marketSegmentIndicatorEffectiveFromDate": day},
            "B023": {
                "connectionTypeIndicator": "W",
                "connectionTypeEffectiveFromDate": day,
                "energyDirection": "E",
                "meteredIndicator": True,
            },
        },
    }


def closed_port() -> int:
    """A port nothing listens on, from this worker's own block (no other worker's hub will take it)."""
    return free_port()


def start_hub(hub: HubProcess, host: str = "0.0.0.0", timeout: float = START_TIMEOUT) -> None:
    """`opendip up` on all interfaces, so tests can also reach it from a non-loopback address."""
    log = hub.log_path.open("ab")
    hub.process = subprocess.Popen(
        [OPENDIP, "up", "--host", host, "--port", str(hub.port)], env=hub.env, stdout=log, stderr=subprocess.STDOUT
    )
    wait_until_ready(hub.process, hub.base_url, hub.log_path, timeout)


def build_world(data_dir: Path, database_url: str) -> Iterator[World]:
    hub = HubProcess(
        data_dir,
        database_url,
        env={
            "OPENDIP_BREAKER_FAILURE_THRESHOLD": "1",
            "OPENDIP_BREAKER_COOLDOWN_SECONDS": "600",
            "OPENDIP_BREAKER_MAX_COOLDOWN_SECONDS": "600",
        },
    )
    trust = TrustStore.from_pem_files([CertificateAuthority.init(hub.settings.pki_dir).ca_path])
    sup_receiver, ldso_receiver = ThreadedReceiver(trust), ThreadedReceiver(trust)
    ldso_receiver.set_behaviour(rejecting(FAIL_MPAN))
    try:
        regs = hub.add(REGS, "REGS")
        hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
        hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
        sup2 = hub.add(SUP2, "SUP")
        hub.add(SUP3, "SUP", webhook=f"http://127.0.0.1:{closed_port()}/dead")
        hub.participants.add(SUP4, "SUP", f"Test SUP {SUP4}", certificate_days=10)
        hub.participants.revoke_certificate(_fingerprint(sup2.cert), "key compromise")
        start_hub(hub)
        world = World(hub, regs, [sup_receiver, ldso_receiver])
        _send_scenario(world)
        world.settle()
        last = int(time.time())
        time.sleep(last + 1.01 - time.time())  # whatever tests send later lands in a later second
        world.frozen = {"from": "2000-01-01T00:00:00", "to": iso_second(last)}
        yield world
    finally:
        hub.close()
        sup_receiver.close()
        ldso_receiver.close()


def _send_scenario(world: World) -> None:
    named = [
        ("ok1", ctc(OK_MPANS[0], [SUP], sub_text=SCRIPT_SUBTEXT)),
        ("ok2", ctc(OK_MPANS[1], [SUP])),
        ("ok3", ctc(OK_MPANS[2], [SUP])),
        ("fail", ctc(FAIL_MPAN, [SUP])),
        ("pending", ctc(PENDING_MPAN, [SUP2])),
        ("dead", ctc(DEAD_MPAN, [SUP3])),
    ]
    answers = world.send([payload for _, payload in named])
    assert all(a["message"] == "MSG0000 - Success" for a in answers), answers
    world.tx.update({name: a["transactionID"] for (name, _), a in zip(named, answers, strict=True)})
    segments = world.send([segment_change(OK_MPANS[0], [SUP]), segment_change(OK_MPANS[1], [SUP])], "IF-044")
    world.tx.update(seg1=segments[0]["transactionID"], seg2=segments[1]["transactionID"])
    bad = ctc(mpan_core(7), [SUP])
    bad["CustomBlock"]["B023"]["connectionTypeIndicator"] = "Q"
    (refused,) = world.send([bad])
    assert refused["message"].startswith("MSG1001"), refused
    world.tx["rejected"] = refused["transactionID"]
    time.sleep(1.05)  # the bulk arrives in later seconds than the rest: second-level filters have two sides
    for start in range(0, BULK, 120):
        answers = world.send([ctc(mpan_core(1000 + n), [SUP]) for n in range(start, start + 120)])
        world.bulk += [a["transactionID"] for a in answers]


def _fingerprint(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex()
