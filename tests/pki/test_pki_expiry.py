"""Expiry warnings at 30/14/7/1 days: per DIP ID, in /metrics gauges and as one notification record each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client import generate_latest

from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.participants.expiry import ExpiryMonitor, threshold_for
from opendip.participants.organisations import OrganisationService
from opendip.participants.service import ParticipantService
from opendip.pki import repository as certificate_store
from opendip.pki.authority import CertificateAuthority
from opendip.pki.repository import certificate_row
from opendip.pki.service import CertificateService

ACTOR = Actor("cli:test", "cli@test", "operator")
DAYS = {"1000000040": 40, "1000000025": 25, "1000000010": 10, "1000000005": 5, "1000000001": 0.5, "1000000000": -2}


def test_thresholds() -> None:
    crossed = [threshold_for(d, (30, 14, 7, 1)) for d in (40, 30, 29.9, 14, 8, 7, 2, 1, 0.2, 0, -5)]
    assert crossed == [None, 30, 30, 14, 14, 7, 7, 1, 1, 0, 0]


@pytest.fixture
def monitored(db_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, notification_email="ops@hub.example")
    db = Database.from_url(db_url)
    upgrade(db.engine)
    OrganisationService(db).create(
        "acme",
        "Acme",
        contacts=[
            {"purpose": "certificates", "name": "PKI", "email": "pki@acme.example"},
            {"purpose": "primary", "name": "Boss", "email": "boss@acme.example"},
        ],
        actor=ACTOR,
    )
    participants = ParticipantService(db, settings)
    ca = CertificateAuthority.init(settings.pki_dir)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    for dip_id, days in DAYS.items():
        participants.add(dip_id, "SUP", f"P {dip_id}", organisation="acme", actor=ACTOR, certificate_days=1)
        with db.begin() as conn:  # the registration certificate is replaced by one expiring when the test needs
            certificate_store.revoke_certificate(
                conn, certificate_store.certificates_of(conn, dip_id)[0]["fingerprint"], 0, "test"
            )
            issued = ca.issue(
                dip_id,
                "P",
                not_before=now - timedelta(days=400),
                not_after=now + timedelta(days=days),
                public_key=key.public_key(),
            )
            certificate_store.insert_certificate(conn, certificate_row(dip_id, issued))
    yield settings, db
    db.dispose()


def test_each_dip_id_is_warned_once_per_threshold_with_an_email_shaped_record(monitored) -> None:  # type: ignore[no-untyped-def]
    settings, db = monitored
    monitor = ExpiryMonitor(db, settings)
    warnings, created = monitor.scan()
    by_dip = {w.dip_id: w.threshold for w in warnings if w.dip_id in DAYS}
    assert by_dip == {"1000000025": 30, "1000000010": 14, "1000000005": 7, "1000000001": 1, "1000000000": 0}
    assert created == 5
    notes = {n["dip_id"]: n for n in monitor.notifications()}
    five = notes["1000000005"]
    assert five["threshold_days"] == 7
    assert re.search(r"DIP ID 1000000005 expires in [45] days \(\d{4}-\d\d-\d\d ", five["subject"]), five["subject"]
    assert five["recipients"] == "pki@acme.example, ops@hub.example", "certificate contacts, and the hub's mailbox"
    assert "opendip pki renew 1000000005" in five["body"]
    assert "EXPIRED" in notes["1000000000"]["subject"]
    assert monitor.scan()[1] == 0, "a second scan records nothing new"

    metrics = generate_latest().decode()
    assert 'opendip_certificates_expiring{threshold_days="7"} 1.0' in metrics
    assert 'opendip_certificates_expiring{threshold_days="0"} 1.0' in metrics
    assert 'opendip_certificate_expiry_days{dip_id="1000000040"} 40.0' in metrics

    CertificateService(db, settings).issue("1000000005", days=365, actor=ACTOR)
    renewed, created = monitor.scan()
    assert "1000000005" not in {w.dip_id for w in renewed}, "a renewed DIP ID is no longer warned about"
    assert created == 0
    ParticipantService(db, settings).set_status("1000000010", "suspended", ACTOR)
    assert "1000000010" not in {w.dip_id for w in monitor.scan()[0]}, "suspended participants are not chased"
