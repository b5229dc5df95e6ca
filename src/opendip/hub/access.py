"""The access-control parts of a running hub, built once and hung on `Hub.access`."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

import structlog

from opendip.accounts.service import UserService
from opendip.accounts.sessions import SessionService
from opendip.config import Settings
from opendip.core.loops import Loop
from opendip.db.engine import Database
from opendip.participants.controls import TrafficControl
from opendip.participants.expiry import ExpiryMonitor
from opendip.participants.gate import EdgeGate
from opendip.participants.identity import webhook_policy
from opendip.participants.keys import ApiKeyService
from opendip.participants.limits import QuotaLedger
from opendip.participants.organisations import OrganisationDirectory, OrganisationService
from opendip.participants.registry import Registry
from opendip.participants.urls import WebhookPolicy
from opendip.pki.authority import ensure_hub_identity
from opendip.pki.replays import SignatureLedger
from opendip.pki.service import CertificateService
from opendip.pki.tls import client_context
from opendip.pki.trust import TrustStore
from opendip.proving.service import ProvingService

log = structlog.get_logger(__name__)


@dataclass
class Access:
    users: UserService
    sessions: SessionService
    organisations: OrganisationService
    keys: ApiKeyService
    traffic: TrafficControl
    certificates: CertificateService
    expiry: ExpiryMonitor
    proving: ProvingService
    gate: EdgeGate
    ledger: QuotaLedger
    trust: TrustStore
    webhook_policy: WebhookPolicy
    client_tls: ssl.SSLContext
    signatures: SignatureLedger  # replay protection: each signature accepted once

    def loops(self, settings: Settings) -> list[Loop]:
        """The access parts' upkeep: the certificate expiry scan and the quota ledger's refresh."""
        return [
            Loop("certificate-expiry", self._scan_expiry, settings.expiry_scan_seconds),
            Loop("quota-ledger", self._refresh_quotas, max(0.05, settings.quota_refresh_seconds)),
            Loop("seen-signatures-purge", lambda: asyncio.to_thread(self.signatures.purge), 60.0),
        ]

    async def _scan_expiry(self) -> None:
        warnings, created = await asyncio.to_thread(self.expiry.scan)
        if created:
            log.warning(
                "certificate expiry notifications recorded", count=created, dip_ids=sorted({w.dip_id for w in warnings})
            )

    async def _refresh_quotas(self) -> None:
        if self.gate.quotas_in_use:
            await asyncio.to_thread(self.ledger.refresh)


def build_access(
    settings: Settings, db: Database, registry: Registry, trust: TrustStore, *, accounts_db: Database | None = None
) -> Access:
    """`accounts_db` holds users and sessions when they are not this store's: a hosted environment signs in
    the hub's users (the primary's), so one sign-in views every environment."""
    people = accounts_db or db
    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    tls = client_context(settings, (cert, key))
    policy = webhook_policy(settings)
    ledger = QuotaLedger(db)
    return Access(
        users=UserService(people, settings, OrganisationDirectory()),
        sessions=SessionService(people, settings, OrganisationDirectory()),
        organisations=OrganisationService(db),
        keys=ApiKeyService(db, settings),
        traffic=TrafficControl(db),
        certificates=CertificateService(db, settings),
        expiry=ExpiryMonitor(db, settings),
        proving=ProvingService.for_hub(db, settings, trust),
        gate=EdgeGate(settings, registry, ledger),
        ledger=ledger,
        trust=trust,
        webhook_policy=policy,
        client_tls=tls,
        signatures=SignatureLedger(db, settings.signature_max_skew_seconds),
    )
