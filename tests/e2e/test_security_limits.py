"""Rate limits and daily quotas per participant: 429 with Retry-After, in the DIP's format."""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson
import pytest
from sqlalchemy import func, select

from opendip.db.models import messages
from opendip.messages.client import Credentials, DipClient
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, Admin, code_of, eventually, help_of, hub_on


@pytest.fixture(scope="module", params=DB_KINDS)
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HubProcess, dict[str, Credentials], Admin]]:
    refresh = {"OPENDIP_QUOTA_REFRESH_SECONDS": "0.2"}
    with hub_on(request.param, tmp_path_factory.mktemp(f"limits-{request.param}"), refresh) as hub:
        creds = {REGS: hub.add(REGS, "REGS"), SUP: hub.add(SUP, "SUP"), LDSO: hub.add(LDSO, "LDSO")}
        hub.start()
        operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
        yield hub, creds, operator
        operator.close()


def test_a_participant_over_its_rate_gets_429_with_retry_after(limited) -> None:  # type: ignore[no-untyped-def]
    hub, creds, operator = limited
    set_limits = operator.call("PUT", f"/admin/participants/{SUP}/limits", {"ratePerSecond": 0.01, "burst": 2})
    assert set_limits.status_code == 200, set_limits.text
    body = orjson.dumps({"callbackURL": "http://127.0.0.1:9/sup"})
    with DipClient(hub.base_url, creds[SUP]) as client:
        answers = [client.request("POST", f"/dip-channel/IF-043/pubconfig/{SUP}", body) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    limited_answer = answers[2]
    assert (limited_answer.status_code, code_of(limited_answer)) == (429, "MSG4029")
    assert 1 <= int(limited_answer.headers["Retry-After"]) <= 100
    assert "0.01 requests per second" in help_of(limited_answer)
    with DipClient(hub.base_url, creds[LDSO]) as other:
        assert other.request("POST", f"/dip-channel/IF-043/pubconfig/{LDSO}", body).status_code == 201, (
            "one participant's limit is not another's"
        )
    operator.call("PUT", f"/admin/participants/{SUP}/limits", {"ratePerSecond": None, "burst": None})


def test_a_participant_over_its_daily_quota_gets_429_until_midnight(limited) -> None:  # type: ignore[no-untyped-def]
    hub, creds, operator = limited
    assert operator.call("PUT", f"/admin/participants/{REGS}/limits", {"dailyQuota": 2}).status_code == 200

    def ctc(n: int) -> dict:  # type: ignore[type-arg]
        return connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)

    with DipClient(hub.base_url, creds[REGS]) as client:
        assert client.send("IF-043", [ctc(1), ctc(2)]).status_code == 201
        serial = iter(range(3, 1000))
        refused = eventually(lambda: client.send("IF-043", [ctc(next(serial))]), 429)
        assert code_of(refused) == "MSG4051"
        assert 1 <= int(refused.headers["Retry-After"]) <= 86400
        with hub.db.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(messages)).scalar()
        acted_on = re.search(r"has sent (\d+) messages today \(UTC\); the quota is 2", help_of(refused))
        assert acted_on, help_of(refused)
        assert 2 <= int(acted_on.group(1)) <= stored, (
            "the count the hub acted on is the store's own, at most one refresh behind it"
        )
        again = client.send("IF-043", [ctc(2000)])
        assert (again.status_code, code_of(again)) == (429, "MSG4051")
        pubconfig = orjson.dumps({"callbackURL": "http://127.0.0.1:9/regs"})
        assert client.request("POST", f"/dip-channel/IF-043/pubconfig/{REGS}", pubconfig).status_code == 201, (
            "the quota is on sending; configuring webhooks still works"
        )
    with hub.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == stored, "nothing over quota stored"
    assert operator.call("PUT", f"/admin/participants/{REGS}/limits", {"dailyQuota": 10}).status_code == 200
    with DipClient(hub.base_url, creds[REGS]) as client:
        assert eventually(lambda: client.send("IF-043", [ctc(4)]), 201).status_code == 201
