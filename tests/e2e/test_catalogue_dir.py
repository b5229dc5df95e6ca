"""Serving any catalogue: OPENDIP_CATALOGUE_DIR (or `opendip up --catalogue DIR`) replaces the packaged one.

/readyz and /metrics say which catalogue is served (a digest of its files and
where it came from); a catalogue that does not load stops `up` with the file
and the problem named.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opendip.catalogue.loader import DEFAULT_DIRECTORY, fingerprint
from opendip.errors import Msg
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.databases import database_url
from tests.helpers.hub import OPENDIP, HubProcess
from tests.helpers.third_party import ThirdPartyClient, codes


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged catalogue without IF-043: a catalogue change, with no code change."""
    folder = tmp_path_factory.mktemp("catalogue") / "edited"
    shutil.copytree(DEFAULT_DIRECTORY, folder)
    (folder / "interfaces" / "IF-043.yaml").unlink()
    return folder


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, edited: Path
) -> Iterator[tuple[HubProcess, ThirdPartyClient]]:
    tmp = tmp_path_factory.mktemp(f"catdir-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url, env={"OPENDIP_CATALOGUE_DIR": str(edited)})
        regs = hub.add(REGS, "REGS")
        hub.add(SUP, "SUP")
        hub.add(LDSO, "LDSO")
        hub.start()
        yield hub, ThirdPartyClient(hub.base_url, regs.api_key, regs.cert, regs.key)
        hub.close()


def test_the_edited_catalogue_is_served_and_reported(served: tuple[HubProcess, ThirdPartyClient], edited: Path) -> None:
    hub, client = served
    payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(91), distributor=LDSO)
    response = client.send("IF-043", payload)
    assert (response.status_code, codes(response)) == (404, [Msg.UNKNOWN_CHANNEL.spec.code])
    ready = httpx.get(hub.base_url + "/readyz", timeout=30).json()["catalogue"]
    assert ready == {"version": fingerprint(edited), "source": str(edited.resolve())}
    assert ready["version"] != fingerprint(DEFAULT_DIRECTORY)
    metrics = httpx.get(hub.base_url + "/metrics", timeout=30).text
    assert f'opendip_catalogue_info{{source="{edited.resolve()}",version="{fingerprint(edited)}"}} 1.0' in metrics


def test_a_catalogue_that_does_not_load_stops_up_naming_the_file(tmp_path: Path, edited: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(edited, broken)
    (broken / "roles.yaml").write_text("roles: [this is not a mapping\n")
    run = subprocess.run(
        [OPENDIP, "up", "--port", "0", "--catalogue", str(broken), "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    said = " ".join((run.stdout + run.stderr).split())  # the console wraps long lines
    assert "roles.yaml" in said and "does not load" in said
