"""The governance API and portal pages on a real hub: refusals in the DIP's format, overdue steps flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opendip.config import Settings
from tests.governance.inprocess import InProcessHub
from tests.governance.support import Clock, clock_on

TOKEN = "governance-test-operator-token"
pytestmark = pytest.mark.slow


@pytest.fixture
def clock() -> Clock:
    return clock_on(dt.date(2026, 12, 14))


@pytest.fixture
def web(tmp_path: Path, db_url: str, clock: Clock) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, environment_tag="SIT", operator_token=TOKEN)
    hub = InProcessHub(settings, clock)
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        yield client
    hub.close()


def test_api_moves_refusals_and_register(web: httpx.Client) -> None:
    made = web.post("/admin/governance/change-requests", json={"title": "IF-043 reason", "as": "proposer"})
    assert made.status_code == 201, made.text
    ref = made.json()["ref"]
    illegal = web.post(f"/admin/governance/change-requests/{ref}/moves", json={"to": "approved", "as": "dcab"})
    assert illegal.status_code == 409
    line = illegal.json()["messageArray"][0]
    assert "MSG4070" in line["message"] and "it may move to validated, withdrawn" in line["help"]
    wrong = web.post(f"/admin/governance/change-requests/{ref}/moves", json={"to": "validated", "as": "dcab"})
    assert wrong.status_code == 403 and "only DIP Manager (dip_manager)" in wrong.json()["messageArray"][0]["help"]
    bad = web.post(f"/admin/governance/change-requests/{ref}/moves", json={"to": "validated", "as": "king"})
    assert bad.status_code == 400 and "$.as: one of proposer" in bad.json()["messageArray"][0]["help"]
    typo = web.post(f"/admin/governance/change-requests/{ref}/classification", json={"as": "dip_manager", "cost": 1})
    assert typo.status_code == 400 and "$.cost: unknown key" in typo.json()["messageArray"][0]["help"]
    ok = web.post(f"/admin/governance/change-requests/{ref}/moves", json={"to": "validated", "as": "dip_manager"})
    assert ok.status_code == 200 and ok.json()["state"] == "validated"
    shown = web.get(f"/admin/governance/change-requests/{ref}").json()
    assert [h["outcome"] for h in shown["history"]] == ["ok", "refused", "refused", "ok"]
    attached = web.post(
        f"/admin/governance/change-requests/{ref}/attachments",
        params={"name": "impact.csv", "as": "service_provider", "note": "costs"},
        content=b"who,cost\nSUP,40000\n",
        headers={"Content-Type": "text/csv"},
    )
    assert attached.status_code == 201, attached.text
    note = attached.json()["notes"][-1]
    assert (note["file_name"], note["size"], note["text"]) == ("impact.csv", 19, "costs")
    fetched = web.get(f"/admin/governance/change-requests/{ref}/attachments/{note['id']}")
    assert fetched.content == b"who,cost\nSUP,40000\n"
    assert 'filename="impact.csv"' in fetched.headers["content-disposition"]
    sneaky = web.post(
        f"/admin/governance/change-requests/{ref}/attachments", params={"name": "../x", "as": "dcab"}, content=b"x"
    )
    assert sneaky.status_code == 400 and "without slashes" in sneaky.json()["messageArray"][0]["help"]
    csv_text = web.get("/admin/governance/register.csv").text
    assert csv_text.splitlines()[1].startswith(f"{ref},IF-043 reason,validated")
    nothing = web.post("/admin/governance/releases/rollback", json={"environment": "PRD"})
    assert nothing.status_code == 409 and "nothing to roll back in PRD" in nothing.json()["messageArray"][0]["help"]
    unknown = web.post("/admin/governance/releases/promote", json={"version": "9", "environment": "QA"})
    assert unknown.status_code == 400 and "QA is not on the release path" in unknown.json()["messageArray"][0]["help"]
    assert web.get("/admin/governance/change-requests", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_pages_show_register_overdue_steps_and_refusals(web: httpx.Client, clock: Clock) -> None:
    empty = web.get("/manage/governance")
    assert empty.status_code == 200 and "No change requests yet." in empty.text and "RACI" in empty.text
    raised = web.post("/manage/governance", data={"title": "Retire IF-043 v011", "as": "proposer"})
    assert raised.status_code == 303
    detail_url = raised.headers["location"]
    detail = web.get(detail_url)
    assert "CR-0001: Retire IF-043 v011" in detail.text and "cr.raise" in detail.text
    refused = web.post(detail_url, data={"action": "move", "to": "built", "as": "dip_manager"})
    assert refused.status_code == 409 and "it may move to validated, withdrawn" in refused.text
    assert "OVERDUE" not in web.get("/manage/governance").text
    clock.set(dt.date(2026, 12, 22))  # raised on Monday 14 December; 5 working days allowed
    register = web.get("/manage/governance").text
    assert "1 overdue" in register and "OVERDUE: step" in register
    moved = web.post(detail_url, data={"action": "move", "to": "validated", "as": "dip_manager", "note": "fine"})
    assert moved.status_code == 303
    assert "OVERDUE" not in web.get("/manage/governance").text
    releases = web.get("/manage/releases")
    assert releases.status_code == 200 and "Serving now" in releases.text and "SIT" in releases.text
    preview = web.post("/manage/releases", data={"action": "preview", "version": "nope", "environment": "SIT"})
    assert preview.status_code == 404 and "no catalogue version nope" in preview.text
