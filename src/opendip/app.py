"""Wiring: build the hub's parts and the FastAPI application around them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from opendip.accounts.admin import router as accounts_admin_router
from opendip.accounts.endpoints import api as session_router
from opendip.accounts.endpoints import router as login_router
from opendip.accounts.pages import SignInNeeded
from opendip.accounts.parts import build_access
from opendip.accounts.tasks import run_access_tasks
from opendip.catalogue import load_catalogue
from opendip.catalogue.endpoints import router as catalogue_router
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.edge import error_answer
from opendip.errors import DipError, Msg
from opendip.hub import Hub
from opendip.messages.auth import Authenticator
from opendip.messages.endpoints import router as messages_router
from opendip.messages.service import IngestService
from opendip.ops.endpoints import router as ops_router
from opendip.participants.admin import router as participants_admin_router
from opendip.participants.admin_organisations import router as organisations_admin_router
from opendip.participants.endpoints import router as participants_router
from opendip.participants.guarded_client import delivery_client
from opendip.participants.pages import router as manage_router
from opendip.participants.registry import Registry
from opendip.participants.service import ParticipantService
from opendip.pki.authority import CertificateAuthority, ensure_hub_identity
from opendip.pki.endpoints import public as pki_public_router
from opendip.pki.endpoints import router as pki_admin_router
from opendip.pki.signing import Signer
from opendip.pki.trust import TrustStore
from opendip.portal.endpoints import router as portal_router
from opendip.replay.endpoints import router as replay_router
from opendip.status.endpoints import router as status_router
from opendip.status.runtime import build_status_parts
from opendip.status.tracking_endpoints import router as tracking_router

Role = Literal["all", "api", "worker"]
log = structlog.get_logger()


def trust_store(settings: Settings) -> TrustStore:
    """The environment's own CA plus any external CAs an operator dropped into pki/trusted/."""
    ca = CertificateAuthority.init(settings.pki_dir, environment=settings.environment_tag)
    extra = sorted((settings.pki_dir / "trusted").glob("*.pem")) if (settings.pki_dir / "trusted").is_dir() else []
    return TrustStore.from_pem_files([ca.ca_path, *extra])


def build_hub(settings: Settings, role: Role = "all") -> Hub:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url, background_checkpoints=True)
    upgrade(db.engine)
    trust = trust_store(settings)
    registry = Registry(db)
    registry.reload()
    catalogue = load_catalogue(environment=settings.environment_tag)
    hub = Hub(
        settings=settings,
        db=db,
        catalogue=catalogue,
        registry=registry,
        authenticator=Authenticator(registry, trust, settings.signature_max_skew_seconds),
        ingest=IngestService(db, catalogue, registry, settings),
        participants=ParticipantService(db, settings),
    )
    hub.access = build_access(settings, db, registry, trust)  # issue 5: accounts, keys, certificates, limits
    if role in ("all", "worker"):
        from opendip.delivery import DeliveryWorker

        cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
        client = delivery_client(hub.access.webhook_policy, hub.access.client_tls)  # issue 5: mTLS + SSRF guard
        hub.worker = DeliveryWorker(db, settings, Signer.from_files(cert, key), client=client)
        hub.ingest = IngestService(db, catalogue, registry, settings, on_stored=hub.worker.wake)
    hub.status = build_status_parts(  # issue 6: services here; its background loops where deliveries run
        db,
        settings,
        background=hub.worker is not None,
        wake_delivery=hub.worker.wake if hub.worker else lambda: None,
        # L4s go out like deliveries: SSRF-guarded in production, hub client certificate on https
        client=delivery_client(hub.access.webhook_policy, hub.access.client_tls) if hub.worker else None,
    )
    return hub


async def _keep_registry_fresh(hub: Hub) -> None:
    while True:
        await asyncio.sleep(0.5)
        try:
            await asyncio.to_thread(hub.registry.reload)
        except Exception:
            log.exception("registry reload failed")


def create_app(settings: Settings | None = None, role: Role = "all") -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = await asyncio.to_thread(build_hub, settings, role)
        app.state.hub = hub
        refresher = asyncio.create_task(_keep_registry_fresh(hub))
        access_tasks = asyncio.create_task(run_access_tasks(hub))  # issue 5: expiry scan, quota ledger
        if hub.worker is not None:
            await hub.worker.start()
        if hub.status is not None:
            await hub.status.start()
        log.info(
            "hub started",
            role=role,
            database=hub.db.engine.dialect.name,
            environment=settings.environment_tag,
        )
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            access_tasks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await access_tasks
            if hub.status is not None:
                await hub.status.stop()
            if hub.worker is not None:
                await hub.worker.stop()
            hub.db.dispose()

    app = FastAPI(title="OpenDIP", version="0.1.0", lifespan=lifespan)
    app.include_router(messages_router)
    app.include_router(catalogue_router)
    app.include_router(participants_router)
    app.include_router(ops_router)
    app.include_router(portal_router)
    app.include_router(status_router)
    app.include_router(tracking_router)
    app.include_router(replay_router)
    for router in (  # issue 5: sign-in, admin API, management pages, CRL
        login_router,
        session_router,
        accounts_admin_router,
        organisations_admin_router,
        pki_admin_router,
        participants_admin_router,
        manage_router,
        pki_public_router,
    ):
        app.include_router(router)

    @app.exception_handler(DipError)
    async def dip_error(_: Request, exc: DipError) -> Response:
        return error_answer(exc)

    @app.exception_handler(SignInNeeded)
    async def sign_in(_: Request, exc: SignInNeeded) -> Response:
        """A management page asked for a viewer and there was none: send the browser to /login."""
        return exc.response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        return error_answer(DipError(Msg.INTERNAL_ERROR, "the hub recorded the fault"))

    return app
