"""Bad input to the test-tracking API is answered with a DIP error naming the path, never a 500 (both stores)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendip.config import Settings
from tests.governance.inprocess import InProcessHub
from tests.governance.support import clock_on
from tests.helpers.databases import database_url
from tests.tracking.conftest import PLAN

TOKEN = "tracking-fuzz-operator-token"
pytestmark = pytest.mark.slow
VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
FIELDS = {
    "/admin/testing/runs": ["case", "dipId", "status", "note", "evidence", "environment"],
    "/admin/testing/defects": ["title", "severity", "run", "case", "dipId", "transactionId", "cohort", "owner"],
    "/admin/testing/cohorts": ["name", "phase", "starts", "ends", "role", "environment", "members", "title"],
    "/admin/testing/defects/DEF-0001/moves": ["to", "note", "owner"],
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with database_url(request.param, Path(tmp)) as url:
        settings_ = Settings(data_dir=tmp / "data", database_url=url, operator_token=TOKEN)
        hub = InProcessHub(settings_, clock_on(dt.date(2027, 1, 18)))
        with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
            assert client.post("/admin/testing/plan", content=PLAN.read_bytes()).status_code == 201
            made = client.post("/admin/testing/defects", json={"title": "seed", "severity": 3})
            assert made.status_code == 201
            yield client
        hub.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(sorted(FIELDS)),
    data=st.data(),
)
def test_any_body_is_answered_without_a_fault(web: httpx.Client, path: str, data: st.DataObject) -> None:
    keys = st.sampled_from([*FIELDS[path], "extra"])
    body = data.draw(st.dictionaries(keys, VALUE, max_size=5) | VALUE)
    answer = web.post(path, json=body)
    assert answer.status_code < 500, (body, answer.text)
    if answer.status_code >= 400:
        line = answer.json()["messageArray"][0]
        assert line["message"][:3] == "MSG" and line["help"], line


def test_query_parameters_are_checked(web: httpx.Client) -> None:
    for day in ("2027-13-40", "tomorrow", "\u0662\u0660\u0662\u0667-01-01", "9" * 500):
        answer = web.get("/admin/testing/report", params={"date": day})
        assert answer.status_code == 400 and "$.date: a date YYYY-MM-DD" in answer.json()["messageArray"][0]["help"]
    assert web.get("/admin/testing/runs", params={"case": "x" * 5000}).json() == []
    for run in (10**20, -1, 2**63):
        huge = web.post("/admin/testing/defects", json={"title": "t", "severity": 2, "run": run})
        assert huge.status_code in (400, 404), huge.text
