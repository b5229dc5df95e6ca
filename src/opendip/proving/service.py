"""Connectivity proving (`opendip prove DIP_ID`): run the checklist and keep a dated record.

The MHHS programme proved each participant's connectivity by hand, and it
took weeks: certificates installed, webhooks set, one message sent to them
and one received from them. Here it is one command (or a portal button)
producing a pass/fail record with the evidence, stored in `proving_runs`.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select

from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.db.models import participants, webhooks
from opendip.delivery.client import WebhookClient
from opendip.errors import DipError, Msg
from opendip.participants import records, repository
from opendip.participants.urls import WebhookPolicy
from opendip.pki import repository as certificate_store
from opendip.pki.signing import Signer
from opendip.pki.trust import TrustStore
from opendip.proving.checks import (
    Check,
    check_certificate,
    check_received,
    check_test_message,
    check_webhooks_tls,
    latest_received,
    proving_message,
)


@dataclass(frozen=True)
class ProvingRecord:
    id: int
    dip_id: str
    started_at: float
    finished_at: float
    passed: bool
    checks: list[Check]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dipId": self.dip_id,
            "date": datetime.fromtimestamp(self.started_at, UTC).isoformat(timespec="seconds"),
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "result": "PASS" if self.passed else "FAIL",
            "checks": [c.as_json() for c in self.checks],
        }


def stored_record(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "dipId": row["dip_id"],
        "date": datetime.fromtimestamp(row["started_at"], UTC).isoformat(timespec="seconds"),
        "startedAt": row["started_at"],
        "finishedAt": row["finished_at"],
        "result": "PASS" if row["passed"] else "FAIL",
        "checks": orjson.loads(row["checks"]),
        "actor": row["actor"],
    }


class ProvingService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        trust: TrustStore,
        signer: Callable[[], Signer],
        client_context: ssl.SSLContext,
        policy: WebhookPolicy,
    ) -> None:
        self._db = db
        self._settings = settings
        self._trust = trust
        self._make_signer = signer  # loading an RSA key costs ~0.1 s: only when proving runs
        self._signer: Signer | None = None
        self._context = client_context
        self._policy = policy

    @classmethod
    def for_hub(cls, db: Database, settings: Settings, trust: TrustStore) -> ProvingService:
        """Proving as the hub runs it: signed with its own certificate, presented on https, behind the webhook guard."""
        from opendip.participants.identity import webhook_policy
        from opendip.pki.authority import ensure_hub_identity
        from opendip.pki.tls import client_context

        cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
        return cls(
            db,
            settings,
            trust,
            lambda: Signer.from_files(cert, key),
            client_context(settings, (cert, key)),
            webhook_policy(settings),
        )

    async def prove(
        self,
        dip_id: str,
        *,
        actor: Actor,
        received_within_seconds: float = 7 * 86400,
        wait_for_message_seconds: float = 0.0,
        timeout: float = 10.0,
    ) -> ProvingRecord:
        started = time.time()
        certificates, urls, primary = await asyncio.to_thread(self._inputs, dip_id)
        checks = [check_certificate(certificates, self._trust, started)]
        checks.append(await check_webhooks_tls(urls, self._policy, self._context, timeout))
        message = proving_message(self._settings.hub_dip_id, dip_id, self._settings.environment_tag, started)
        client = WebhookClient(ssl_context=self._context, user_agent="OpenDIP-proving")
        try:
            if self._signer is None:
                self._signer = await asyncio.to_thread(self._make_signer)
            checks.append(await check_test_message(primary, client, self._signer, message, timeout))
        finally:
            await client.close()
        since = started - received_within_seconds
        found = await asyncio.to_thread(self._latest, dip_id, since)
        deadline = time.time() + wait_for_message_seconds
        while found is None and time.time() < deadline:
            await asyncio.sleep(0.25)
            found = await asyncio.to_thread(self._latest, dip_id, since)
        checks.append(check_received(found, since))
        return await asyncio.to_thread(self._store, dip_id, started, checks, actor)

    def history(self, dip_id: str, limit: int = 20) -> list[dict[str, Any]]:
        with self._db.begin() as conn:
            return [stored_record(r) for r in records.proving_runs_of(conn, dip_id, limit)]

    def _inputs(self, dip_id: str) -> tuple[list[dict[str, Any]], list[str], str | None]:
        """Certificates (with PEM), every distinct webhook URL, and the one the test message goes to."""
        with self._db.begin() as conn:
            person = repository.get_participant(conn, dip_id)
            if person is None:
                raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
            certificates = certificate_store.certificates_of(conn, dip_id)
            for row in certificates:
                row["pem"] = certificate_store.certificate_pem(conn, row["fingerprint"])
            w = webhooks.c
            hooks = conn.execute(
                select(w.interface_id, w.callback_url).where(w.recipient_dip_id == dip_id).order_by(w.interface_id)
            ).all()
            default = conn.execute(
                select(participants.c.default_webhook_url).where(participants.c.dip_id == dip_id)
            ).scalar_one_or_none()
        by_interface = {row[0]: row[1] for row in hooks}
        primary = default or by_interface.get("*") or (hooks[0][1] if hooks else None)
        urls = list(dict.fromkeys([u for u in (default, *by_interface.values()) if u]))
        return certificates, urls, primary

    def _latest(self, dip_id: str, since: float) -> dict[str, Any] | None:
        with self._db.engine.connect() as conn:
            return latest_received(conn, dip_id, since)

    def _store(self, dip_id: str, started: float, checks: list[Check], actor: Actor) -> ProvingRecord:
        finished = time.time()
        passed = all(c.passed for c in checks)
        with self._db.begin() as conn:
            run_id = records.insert_proving_run(
                conn,
                {
                    "dip_id": dip_id,
                    "environment_tag": self._settings.environment_tag,
                    "started_at": started,
                    "finished_at": finished,
                    "passed": passed,
                    "checks": orjson.dumps([c.as_json() for c in checks]).decode(),
                    "actor": actor.who[:120],
                },
            )
            audit.record(
                conn,
                actor,
                "participant.prove",
                f"participant:{dip_id}",
                outcome="pass" if passed else "fail",
                detail={"run": run_id, "failed": [c.name for c in checks if not c.passed]},
            )
        return ProvingRecord(run_id, dip_id, started, finished, passed, checks)
