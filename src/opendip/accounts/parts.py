"""The access-control parts of a running hub, built once and hung on `Hub.access`."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from opendip.accounts.service import UserService
from opendip.accounts.sessions import SessionService
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.participants.controls import TrafficControl
from opendip.participants.gate import EdgeGate
from opendip.participants.identity import webhook_policy
from opendip.participants.keys import ApiKeyService
from opendip.participants.limits import QuotaLedger
from opendip.participants.organisations import OrganisationService
from opendip.participants.proving import ProvingService
from opendip.participants.registry import Registry
from opendip.participants.urls import WebhookPolicy
from opendip.pki.authority import ensure_hub_identity
from opendip.pki.expiry import ExpiryMonitor
from opendip.pki.service import CertificateService
from opendip.pki.signing import Signer
from opendip.pki.tls import client_context
from opendip.pki.trust import TrustStore


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


def build_access(settings: Settings, db: Database, registry: Registry, trust: TrustStore) -> Access:
    cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    tls = client_context(settings, (cert, key))
    policy = webhook_policy(settings)
    ledger = QuotaLedger(db)
    return Access(
        users=UserService(db, settings),
        sessions=SessionService(db, settings),
        organisations=OrganisationService(db),
        keys=ApiKeyService(db, settings),
        traffic=TrafficControl(db),
        certificates=CertificateService(db, settings),
        expiry=ExpiryMonitor(db, settings),
        proving=ProvingService(db, settings, trust, lambda: Signer.from_files(cert, key), tls, policy),
        gate=EdgeGate(settings, registry, ledger),
        ledger=ledger,
        trust=trust,
        webhook_policy=policy,
        client_tls=tls,
    )
