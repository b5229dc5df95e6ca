"""Backups that restore: taken while the hub runs, verified, restored into a new data dir that works, drilled."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from opendip.messages.client import DipClient
from tests.e2e.conftest import Cast
from tests.helpers.hub import HubProcess
from tests.ops.support import opendip, opendip_json, scratch_postgres_database, send_batch, wait_until


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_verify_restore_drill(cast: Cast, tmp_path: Path) -> None:
    with cast.client(cast.regs) as client:
        accepted = [tx for batch in range(3) for tx in send_batch(client, batch * 5, 5)]
    cast.sup_receiver.wait_for(len(accepted))

    taken = opendip_json(cast.hub, "backup", "now")
    store = Path(taken["file"])
    assert taken["messages"] == len(accepted)
    assert taken["sha256"] == sha256(store)
    assert [b["file"] for b in opendip_json(cast.hub, "backup", "list")] == [taken["file"]]
    assert opendip_json(cast.hub, "backup", "verify", str(store))["ok"] is True

    drill = opendip_json(cast.hub, "backup", "drill")
    assert drill["ok"] is True and drill["counts"]["messages"] == len(accepted)

    new_dir = tmp_path / "restored"
    if cast.hub.settings.is_sqlite:
        restored = opendip_json(cast.hub, "backup", "restore", str(store), "--data-dir", str(new_dir))
        run_restored(restored["database_url"], new_dir, cast, accepted)
    else:
        with scratch_postgres_database() as target:
            args = ("backup", "restore", str(store), "--data-dir", str(new_dir), "--database-url", target)
            restored = opendip_json(cast.hub, *args)
            run_restored(restored["database_url"], new_dir, cast, accepted)
    assert restored["counts"]["messages"] == len(accepted)

    with store.open("ab") as handle:  # one byte more: the checksum no longer matches
        handle.write(b"\0")
    broken = opendip(cast.hub, "backup", "verify", str(store), check=False)
    assert broken.returncode == 1 and "checksum" in broken.stdout
    refused = opendip(cast.hub, "backup", "restore", str(store), "--data-dir", str(tmp_path / "again"), check=False)
    assert refused.returncode == 1 and "checksum" in refused.stderr


def run_restored(database_url: str, data_dir: Path, cast: Cast, accepted: list[str]) -> None:
    """The restored data dir runs a hub that knows the participants, their keys and every message."""
    restored = HubProcess(data_dir, database_url)
    try:
        restored.start()
        with DipClient(restored.base_url, cast.regs) as client:
            for tx in (accepted[0], accepted[-1]):
                answer = client.request("GET", f"/journal?transactionID={tx}")
                assert answer.status_code == 200, answer.text
                stages = {entry["stage"] for entry in answer.json()["transactions"][0]["journal"]}
                assert {"Inbound", "Outbound"} <= stages
    finally:
        restored.close()


def test_backup_while_ingest_runs_is_consistent(cast: Cast) -> None:
    stop = threading.Event()
    answers: list[int] = []

    def keep_sending() -> None:
        with cast.client(cast.regs) as client:
            batch = 0
            while not stop.is_set() or batch < 3:
                answers.append(len(send_batch(client, 1000 + batch * 10, 10)))
                batch += 1

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        wait_until(lambda: len(answers) >= 3, 60, "ingest under way")
        taken = opendip_json(cast.hub, "backup", "now")
    finally:
        stop.set()
        sender.join(60)
    assert 30 <= taken["messages"] <= sum(answers)
    assert opendip_json(cast.hub, "backup", "drill", taken["file"])["ok"] is True


def test_scheduled_backups_are_taken_and_pruned(hub: HubProcess) -> None:
    hub.env.update({"OPENDIP_BACKUP_INTERVAL_SECONDS": "1", "OPENDIP_BACKUP_KEEP_SECONDS": "3"})
    directory = hub.settings.effective_backup_dir
    seen: set[str] = set()

    def pruned() -> bool:
        current = {p.name for p in directory.glob("*.manifest.json")}
        seen.update(current)
        return len(seen) > len(current) >= 1

    hub.start()
    wait_until(pruned, 90, "a scheduled backup to be taken and an old one pruned", every=0.2)
    hub.stop()  # no more backups or pruning while the newest is checked
    newest = opendip_json(hub, "backup", "list")[-1]
    assert opendip_json(hub, "backup", "verify", newest["file"])["ok"] is True
