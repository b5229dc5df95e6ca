"""End to end: a change request adds an optional field to IF-043, goes through the process, and the new
schemaVersion is accepted in SIT and then in production from their effective dates, the old one throughout.

Two hubs (SIT and PRD) share one database, as the DIP Manager's register and the release ledger are one;
each serves its own environment. Their clock is the test's: dates pass without waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.errors import DipError, Msg
from opendip.governance.classification import Assessment
from opendip.governance.workdays import start_of_day
from opendip.messages.client import Credentials, DipClient
from opendip.participants.service import ParticipantService
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.governance.catalogues import NEW_FIELD, with_optional_field, without_version_011
from tests.governance.inprocess import InProcessHub
from tests.governance.support import Clock, clock_on

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
OPERATOR = Actor("user:operator", "test", "operator")
PROPOSER = Actor("user:proposer", "test", "message_admin", "acme")
pytestmark = pytest.mark.slow


class Market:
    def __init__(self, tmp_path: Path, db_url: str, clock: Clock) -> None:
        data = tmp_path / "data"
        self.settings = {
            env: Settings(data_dir=data, database_url=db_url, environment_tag=env, governance_refresh_seconds=3600)
            for env in ("SIT", "PRD")
        }
        self.db = Database.from_url(db_url)
        upgrade(self.db.engine)
        participants = ParticipantService(self.db, self.settings["SIT"])
        for dip_id, role in ((REGS, "REGS"), (SUP, "SUP"), (LDSO, "LDSO")):
            participants.add(dip_id, role, f"Test {role}")
        self.regs = Credentials.load(data / "participants" / f"{REGS}.json")
        self.hubs = {env: InProcessHub(settings, clock) for env, settings in self.settings.items()}
        self.clock = clock
        self.sequence = 0

    @property
    def governance(self) -> Any:
        governance = self.hubs["SIT"].hub.governance
        assert governance is not None
        return governance

    def refresh(self) -> None:
        """What each hub's background loop does every second; called here so the test never waits on it."""
        for hub in self.hubs.values():
            assert hub.hub.governance is not None
            hub.hub.governance.refresh()

    def send(self, env: str, version: str) -> tuple[int, str]:
        self.sequence += 1
        message = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(self.sequence), distributor=LDSO)
        message["CommonBlock"]["S1"]["environmentTag"] = env
        message["CommonBlock"]["S0"]["schemaVersion"] = version
        if version == "012":
            message["CustomBlock"]["B023"][NEW_FIELD] = "meter exchange"
        with DipClient(self.hubs[env].base_url, self.regs) as client:
            response = client.send("IF-043", [message])
        item = response.json()["messageArray"][0]
        return response.status_code, f"{item['message']} {item.get('help', '')}"

    def close(self) -> None:
        for hub in self.hubs.values():
            hub.close()
        self.db.dispose()


@pytest.fixture
def market(tmp_path: Path, db_url: str) -> Iterator[Market]:
    made = Market(tmp_path, db_url, clock_on(dt.date(2026, 12, 14)))
    yield made
    made.close()


def refused(call: Any, msg: Msg, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(DipError) as caught:
        call(*args, **kwargs)
    assert caught.value.msg is msg, caught.value.detail
    return caught.value.detail


def accepted(result: tuple[int, str]) -> bool:
    return result[0] == 201


def test_new_schema_version_released_sit_then_production(market: Market, tmp_path: Path) -> None:
    clock, governance = market.clock, market.governance
    requests, releases = governance.requests, governance.releases
    assert accepted(market.send("SIT", "011")) and accepted(market.send("PRD", "011"))
    status, text = market.send("SIT", "012")
    assert status == 400 and "schemaVersion must be one of 011" in text

    # the change request, up to its determination on Thursday 24 December 2026
    ref = requests.raise_request(
        PROPOSER,
        "participant",
        title="IF-043: reason for a connection type change",
        description="an optional free-text reason in B023",
    )["ref"]
    requests.move(OPERATOR, "dip_manager", ref, "validated")
    requests.move(OPERATOR, "service_provider", ref, "impact_assessed")
    requests.classify(OPERATOR, "dip_manager", ref, Assessment(cost_users_gbp=40_000, changes_message_definitions=True))
    version = releases.register(OPERATOR, "2027.1", with_optional_field(tmp_path / "cat-2027.1"), ref)
    assert {c["subject"] for c in version["changes"]} >= {"version of IF-043 012", "block B023V012"}
    assert not any(c["breaking"] for c in version["changes"])
    for target in ("classified", "baselined", "consulted"):
        requests.move(OPERATOR, "dip_manager", ref, target)
    detail = refused(releases.promote, Msg.CHANGE_NOT_ALLOWED, OPERATOR, "2027.1", "SIT")
    assert f"{ref} is consulted: promotion to SIT needs it approved or further on" in detail
    clock.set(dt.date(2026, 12, 24))
    approved = requests.move(OPERATOR, "dcab", ref, "approved")
    assert approved["implementation_date"] == "2027-01-05"

    # SIT first, from Tuesday 29 December; production refused until SIT (and UIT) have it
    detail = refused(releases.promote, Msg.CHANGE_NOT_ALLOWED, OPERATOR, "2027.1", "PRD")
    assert "needs it release_ready" in detail
    sit_from = start_of_day(dt.date(2026, 12, 29))
    report = releases.promote(OPERATOR, "2027.1", "SIT", effective=sit_from, lookback_days=30)
    assert report["replaces"] == "base" and report["breaking"] == 0
    assert report["impact"] == {"messages_checked": 1, "messages_refused": 0, "senders": []}
    market.refresh()

    clock.now = sit_from - 1
    status, text = market.send("SIT", "012")
    assert status == 400, text
    assert accepted(market.send("SIT", "011"))
    clock.now = sit_from
    assert accepted(market.send("SIT", "012"))
    assert accepted(market.send("SIT", "011"))
    assert market.send("PRD", "012")[0] == 400

    # build, test, release readiness; then UIT and production from the implementation date
    requests.move(OPERATOR, "service_provider", ref, "built")
    releases.promote(OPERATOR, "2027.1", "UIT")
    detail = refused(releases.promote, Msg.CHANGE_NOT_ALLOWED, OPERATOR, "2027.1", "PRD")
    assert "is built: promotion to PRD needs it release_ready" in detail
    requests.move(OPERATOR, "service_provider", ref, "tested")
    requests.move(OPERATOR, "dip_manager", ref, "release_ready")
    prd_from = start_of_day(dt.date.fromisoformat(approved["implementation_date"]))
    report = releases.promote(OPERATOR, "2027.1", "PRD", effective=prd_from)
    assert report["impact"]["messages_checked"] == 1 and report["impact"]["senders"] == []
    market.refresh()
    clock.set(dt.date(2027, 1, 4), hour=23)
    assert market.send("PRD", "012")[0] == 400
    assert accepted(market.send("PRD", "011"))
    clock.set(dt.date(2027, 1, 5), hour=0)
    assert accepted(market.send("PRD", "012"))
    assert accepted(market.send("PRD", "011"))
    assert accepted(market.send("SIT", "011"))
    assert [s["serving"] for s in releases.status()] == ["2027.1", "2027.1", "2027.1"]

    # one-action rollback in production: v012 refused again from now, v011 never stopped
    clock.set(dt.date(2027, 1, 6))
    rolled = releases.rollback(OPERATOR, "PRD")
    assert (rolled["version"], rolled["previous_version"]) == ("base", "2027.1")
    market.refresh()
    assert market.send("PRD", "012")[0] == 400
    assert accepted(market.send("PRD", "011"))
    assert accepted(market.send("SIT", "012"))
    refused(releases.rollback, Msg.CHANGE_NOT_ALLOWED, OPERATOR, "PRD")
    actions = [(r["environment"], r["action"], r["version"]) for r in releases.ledger()]
    assert actions == [
        ("SIT", "promote", "2027.1"),
        ("UIT", "promote", "2027.1"),
        ("PRD", "promote", "2027.1"),
        ("PRD", "rollback", "base"),
    ]
    with market.db.engine.connect() as conn:
        query = sa.text("SELECT action, outcome FROM audit_log WHERE target LIKE :target ORDER BY id")
        audited = conn.execute(query, {"target": "catalogue:%"}).all()
    assert [tuple(a) for a in audited] == [
        ("release.promote", "refused"),
        ("release.promote", "refused"),
        ("release.promote", "ok"),
        ("release.promote", "ok"),
        ("release.promote", "refused"),
        ("release.promote", "ok"),
        ("release.rollback", "ok"),
    ]


def test_promotion_names_senders_the_new_version_would_refuse(market: Market, tmp_path: Path) -> None:
    governance = market.governance
    requests, releases = governance.requests, governance.releases
    for _ in range(3):
        assert accepted(market.send("SIT", "011"))
    ref = requests.raise_request(OPERATOR, "proposer", title="retire IF-043 v011", description="")["ref"]
    folder = without_version_011(tmp_path / "cat-2027.2")
    detail = refused(releases.register, Msg.CHANGE_NOT_ALLOWED, OPERATOR, "2027.2", folder, ref)
    assert "only a change to message definitions carries a catalogue version" in detail
    detail = refused(releases.register, Msg.SCHEMA_FAILURE, OPERATOR, "2027.2", tmp_path / "none", ref)
    assert "is not a directory" in detail
    requests.move(OPERATOR, "dip_manager", ref, "validated")
    requests.move(OPERATOR, "dip_manager", ref, "impact_assessed")
    requests.classify(OPERATOR, "dip_manager", ref, Assessment(changes_message_definitions=True))
    built = releases.register(OPERATOR, "2027.2", folder, ref)
    assert any(c["breaking"] and c["subject"] == "version of IF-043 011" for c in built["changes"])
    refused(releases.register, Msg.ALREADY_EXISTS, OPERATOR, "2027.2", tmp_path / "cat-2027.2", ref)
    preview = releases.preview("2027.2", "SIT", lookback_days=1)
    assert preview["breaking"] == 1
    (sender,) = preview["impact"]["senders"]
    assert (sender["sender"], sender["checked"], sender["refused"]) == (REGS, 3, 3)
    assert sender["examples"][0]["code"] == Msg.UNSUPPORTED_VERSION.spec.code
    assert "schemaVersion must be one of 012" in sender["examples"][0]["reason"]
    assert releases.preview("2027.2", "PRD", lookback_days=1)["impact"]["messages_checked"] == 0
