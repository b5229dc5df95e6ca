"""The portal's NFR page follows the portal's access rule: a participant's users see only their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import LDSO, REGS, SUP
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, PASSWORD, Admin, code_of, hub_on


@pytest.mark.parametrize("kind", DB_KINDS)
def test_nfr_page_shows_a_user_only_its_own_participants(kind: str, tmp_path: Path) -> None:
    with hub_on(kind, tmp_path) as hub:
        for dip_id, role in ((REGS, "REGS"), (SUP, "SUP"), (LDSO, "LDSO")):
            hub.add(dip_id, role)
        hub.start()
        operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
        assert operator.post("/admin/organisations", {"id": "acme", "name": "Acme Energy"}).status_code == 201
        assert operator.call("PATCH", f"/admin/participants/{SUP}", {"organisation": "acme"}).status_code == 200
        user = {"username": "acme-msgs", "password": PASSWORD, "role": "message_admin", "organisation": "acme"}
        assert operator.post("/admin/users", user).status_code == 201

        everyone = operator.http.get(f"/portal/nfr?participant={LDSO}")
        assert everyone.status_code == 200, everyone.text
        assert f"NFR compliance of {LDSO}" in everyone.text and f'value="{REGS}"' in everyone.text

        acme = Admin.signed_in(hub.base_url, "acme-msgs")
        own = acme.http.get("/portal/nfr", headers={"Accept": "text/html"})
        assert own.status_code == 200, own.text
        assert f"NFR compliance of {SUP}" in own.text and "DIP Rules lines, as a recipient" in own.text
        assert f'value="{LDSO}"' not in own.text and f'value="{REGS}"' not in own.text
        other = acme.http.get(f"/portal/nfr?participant={LDSO}")
        assert other.status_code == 403 and code_of(other) == "MSG3006"
        bad = acme.http.get("/portal/nfr?from=yesterday", headers={"Accept": "text/html"})
        assert bad.status_code == 400 and "--from &#39;yesterday&#39;" in bad.text.replace("&#x27;", "&#39;")
        acme.close()
        operator.close()
