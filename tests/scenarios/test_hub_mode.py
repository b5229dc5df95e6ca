"""`opendip scenario run --hub URL` against a hub started separately, one role played against a real system.

The hub runs as its own `opendip up` process. A supplier's own system (its own
process, tests/helpers/supplier_system.py, sharing nothing with the simulator)
is registered on it with its own webhook. One run of the runner plays a library
scenario (every role simulated) and the role-play scenario, in which the runner
is the registration service and the supplier's system plays the supplier.
Both stores.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from opendip.catalogue.loader import load_catalogue
from opendip.cli import app
from opendip.simulator.payloads import PayloadFactory
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess
from tests.simulator.world import wait_for

ROOT = Path(__file__).resolve().parents[2]
REAL_SUP = "2300000777"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp(f"hub-mode-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url)
        creds = hub.participants.add(REAL_SUP, "SUP", "Supplier's own system")
        update = PayloadFactory(load_catalogue(), hub.settings.environment_tag).build(
            "IF-025", "ConsentGranularity", sender=REAL_SUP, role="SUP", recipients=[]
        )
        config = {
            "hub": hub.base_url,
            "dip_id": REAL_SUP,
            "api_key": creds.api_key,
            "cert": str(creds.cert),
            "key": str(creds.key),
            "update_template": update,
            "port_file": str(tmp / "supplier.port"),
            "log": str(tmp / "supplier.log"),
        }
        (tmp / "supplier.json").write_bytes(orjson.dumps(config))
        system = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.supplier_system", str(tmp / "supplier.json")], cwd=ROOT
        )
        try:
            port_file = tmp / "supplier.port"
            port = wait_for(lambda: port_file.exists() and port_file.read_text(), "the supplier's port", 120)
            hub.participants.set_webhook(REAL_SUP, "*", f"http://127.0.0.1:{port}/webhook")
            hub.start()
            evidence = tmp / "evidence"
            files = [ROOT / "scenarios" / "change-of-supplier.yaml", ROOT / "scenarios" / "real" / "supplier-gain.yaml"]
            command = [str(Path(sys.executable).parent / "opendip"), "scenario", "run", *map(str, files)]
            done = subprocess.run(
                [*command, "--hub", hub.base_url, "--real", REAL_SUP, "--evidence", str(evidence)],
                env={**hub.env},
                capture_output=True,
                text=True,
                timeout=600,
            )
            results = orjson.loads((evidence / "results.json").read_bytes())
            log = tmp / "supplier.log"
            yield {"done": done, "results": results, "log": log, "hub": hub}
        finally:
            system.kill()
            system.wait(10)
            hub.close()


def test_the_runner_drives_a_hub_it_did_not_start(run: dict[str, Any]) -> None:
    done, results = run["done"], run["results"]
    assert done.returncode == 0, done.stdout + done.stderr
    hub = results["environment"]["hub"]
    assert hub["url"] == run["hub"].base_url and not hub["startedByRunner"]
    assert all(s["passed"] for s in results["scenarios"]), [s["reason"] for s in results["scenarios"]]


def test_one_role_is_played_against_a_participants_own_system(run: dict[str, Any]) -> None:
    gain = next(s for s in run["results"]["scenarios"] if "real system" in s["process"])
    assert gain["passed"], gain["reason"]
    lines = [orjson.loads(line) for line in run["log"].read_bytes().splitlines()]
    assert {"received": "IF-001"}.items() <= next(line for line in lines if line.get("received") == "IF-001").items()
    sent = next(line for line in lines if line.get("sent") == "IF-025")
    assert sent["status"] == 201 and sent["mpan"] == gain["mpan"], sent
    received = {(m["recipient"], m["interface"]) for m in gain["messagesReceived"]}
    assert any(interface == "IF-025" for _, interface in received)
    switch = next(m for m in gain["messagesSent"] if m["step"] == "switch")
    assert REAL_SUP in switch["recipients"] and "RCP0000" in switch["l4"]


def test_a_real_system_the_hub_does_not_know_stops_the_run(run: dict[str, Any], tmp_path: Path) -> None:
    hub = run["hub"]
    env = {k: v for k, v in hub.env.items() if k.startswith("OPENDIP_")}
    args = ["scenario", "run", str(ROOT / "scenarios" / "real"), "--hub", hub.base_url, "--real", "2300000555"]
    done = CliRunner().invoke(app, [*args, "--evidence", str(tmp_path / "e")], env=env, catch_exceptions=False)
    assert done.exit_code == 2
    assert "2300000555" in done.output and "not registered" in done.output
