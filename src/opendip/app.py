"""Wiring: build the hub's parts and the FastAPI application around them."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.engine import make_url
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from opendip.accounts.admin import router as accounts_admin_router
from opendip.accounts.endpoints import api as session_router
from opendip.accounts.endpoints import router as login_router
from opendip.accounts.pages import SignInNeeded
from opendip.accounts.pages import router as accounts_pages_router
from opendip.catalogue import load_catalogue
from opendip.catalogue.docs import router as docs_router
from opendip.catalogue.endpoints import router as catalogue_router
from opendip.catalogue.metrics import CATALOGUE_INFO, catalogue_source
from opendip.catalogue.served import ServedCatalogue
from opendip.config import Settings
from opendip.core.http import error_answer, framework_refusal
from opendip.core.loops import Loop
from opendip.core.perimeter import Perimeter
from opendip.core.validation import document_bodies, validation_error
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.delivery.attempts import MESSAGE, STATUS
from opendip.delivery.guarded_client import delivery_client
from opendip.delivery.kind import OutboxKind
from opendip.environments.hosting import EnvironmentDispatch, Hosting
from opendip.environments.pages import router as environments_pages
from opendip.environments.service import EnvironmentService
from opendip.errors import DipError, Msg
from opendip.governance.endpoints import router as governance_router
from opendip.governance.pages import router as governance_pages
from opendip.governance.parts import build_governance
from opendip.hub import Hub
from opendip.hub.access import build_access
from opendip.hub.status import build_status_parts
from opendip.messages.auth import Authenticator
from opendip.messages.endpoints import router as messages_router
from opendip.messages.service import IngestService
from opendip.nft.pages import router as nfr_router
from opendip.ops.backlog_pages import router as backlog_pages_router
from opendip.ops.endpoints import router as ops_router
from opendip.ops.faults import STORE_FAULTS, is_store_fault, store_unavailable
from opendip.ops.maintenance import MaintenanceGate
from opendip.ops.pages import register_banner
from opendip.ops.pages import router as ops_pages_router
from opendip.ops.retention_pages import router as retention_pages_router
from opendip.ops.runtime import OpsParts
from opendip.participants.admin import router as participants_admin_router
from opendip.participants.admin_organisations import router as organisations_admin_router
from opendip.participants.endpoints import router as participants_router
from opendip.participants.pages import router as manage_router
from opendip.participants.registry import Registry
from opendip.participants.service import ParticipantService
from opendip.pki.authority import ensure_hub_identity, trust_store
from opendip.pki.endpoints import public as pki_public_router
from opendip.pki.endpoints import router as pki_admin_router
from opendip.pki.signing import Signer
from opendip.portal.actions import router as portal_actions_router
from opendip.portal.endpoints import home as portal_home
from opendip.portal.endpoints import router as portal_router
from opendip.portal.environment_view import router as environment_view_router
from opendip.portal.errors import dip_error_page, error_page, missing_page, wants_missing_page, wants_page
from opendip.replay.endpoints import router as replay_router
from opendip.status.endpoints import router as status_router
from opendip.status.outbox import StatusKind
from opendip.status.tracking_endpoints import router as tracking_router
from opendip.tracking.endpoints import router as testing_router
from opendip.tracking.pages import router as testing_pages
from opendip.tracking.parts import build_tracking

Role = Literal["all", "api", "worker"]
log = structlog.get_logger()


def _nothing() -> None:
    """No worker in this process to wake: another process's claims poll the outbox."""


def build_hub(
    settings: Settings,
    role: Role = "all",
    *,
    clock: Callable[[], float] = time.time,
    ledger_db: Database | None = None,
    environment_names: Callable[[], list[str]] | None = None,
) -> Hub:
    """The hub's parts; `clock` is the time catalogue releases and change-request deadlines are judged at.

    `ledger_db` is the primary's store when this hub is a hosted environment: it holds the release ledger and
    the hub's users and sessions. `environment_names` lists the environments the portal can switch between.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(
        settings.effective_database_url, background_checkpoints=True, pool_size=settings.database_pool_size
    )
    upgrade(db.engine)
    trust = trust_store(settings)
    registry = Registry(db)
    registry.reload()
    catalogue = load_catalogue(settings.catalogue_dir, environment=settings.environment_tag)
    CATALOGUE_INFO.labels(catalogue.version or "", catalogue_source(settings)).set(1)
    served = ServedCatalogue(catalogue, clock=clock)  # released catalogue versions take over at their dates
    access = build_access(settings, db, registry, trust, accounts_db=ledger_db)  # accounts, keys, certificates, limits
    # Deliveries (and L4s) go out SSRF-guarded in production, presenting the hub's certificate on https.
    worker = None
    wake = _nothing  # ingest and requeues wake the local worker, when this process has one
    wake_status = _nothing
    if role in ("all", "worker"):
        from opendip.delivery import DeliveryWorker, MessageKind

        cert, key = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
        client = delivery_client(access.webhook_policy, access.client_tls)
        kinds: list[OutboxKind] = [MessageKind(db, settings), StatusKind(db)]  # one dispatcher, both kinds
        worker = DeliveryWorker(db, settings, Signer.from_files(cert, key), kinds=kinds, client=client)
        wake = functools.partial(worker.wake, MESSAGE)
        wake_status = functools.partial(worker.wake, STATUS)
    status = build_status_parts(  # services everywhere; its background loops where deliveries run
        db, settings, background=worker is not None, wake_delivery=wake, wake_status=wake_status
    )
    hub = Hub(
        settings=settings,
        db=db,
        catalogue=catalogue,
        registry=registry,
        authenticator=Authenticator(registry, trust, settings.signature_max_skew_seconds),
        ingest=IngestService(
            db,
            catalogue,
            registry,
            settings,
            on_stored=wake,
            served=served,
        ),
        participants=ParticipantService(db, settings),
        access=access,
        status=status,
        # the hooks run later, once `hub` is bound: maintenance holds and resumes this hub's deliveries
        ops=OpsParts(
            settings, db, background=worker is not None, on_hold=lambda: hold(hub), on_resume=lambda: resume(hub)
        ),
        governance=build_governance(settings, ledger_db or db, served, clock=clock),
        tracking=build_tracking(settings, db, clock=clock),
        environment_names=environment_names or (lambda: [settings.environment_tag]),
        worker=worker,
    )
    return hub


async def hold(hub: Hub) -> None:
    """Planned maintenance began: finish in-flight deliveries and stop claiming; the outbox keeps the rest."""
    await hub.status.stop()
    if hub.worker is not None:
        await hub.worker.stop()


async def resume(hub: Hub) -> None:
    """Maintenance is over: held deliveries go out, oldest first, as the worker claims them."""
    if hub.worker is not None:
        await hub.worker.start()
    await hub.status.start()


def background_loops(hub: Hub) -> list[Loop]:
    """What every hub process keeps fresh: the registry, governance's figures, the access parts' upkeep."""
    every = hub.settings.governance_refresh_seconds
    return [
        Loop("registry-refresh", lambda: asyncio.to_thread(hub.registry.reload), 0.5),
        Loop("governance-refresh", lambda: asyncio.to_thread(hub.governance.refresh), every),
        *hub.access.loops(hub.settings),
    ]


def create_app(
    settings: Settings | None = None,
    role: Role = "all",
    *,
    clock: Callable[[], float] = time.time,
    ledger_db: Database | None = None,
    environment_names: Callable[[], list[str]] | None = None,
) -> FastAPI:
    """The hub's app. The primary (no `ledger_db`) also hosts the environments created on it (opendip.environments)."""
    settings = settings or Settings()
    hosting = None
    if ledger_db is None:
        hosting = Hosting(
            lambda env: create_app(env, role, clock=clock, ledger_db=db(), environment_names=environment_names)
        )
        environment_names = hosting.names(settings.environment_tag)

    def db() -> Database:
        database: Database = app.state.hub.db
        return database

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = await asyncio.to_thread(
            functools.partial(
                build_hub, settings, role, clock=clock, ledger_db=ledger_db, environment_names=environment_names
            )
        )
        app.state.hub = hub
        loops = background_loops(hub)
        if hosting is not None:
            await hosting.start(EnvironmentService(settings, hub.db), hub.registry)
            loops.append(Loop("environments-sync", hosting.sync, 1.0))
        for loop in loops:
            loop.start()
        if hub.worker is not None:
            await hub.worker.start()
        await hub.status.start()
        await hub.ops.start()
        log.info(
            "hub started",
            role=role,
            database=hub.db.engine.dialect.name,
            environment=settings.environment_tag,
        )
        try:
            yield
        finally:
            for loop in loops:
                await loop.cancel()
            if hosting is not None:
                await hosting.stop()
            await hub.ops.stop()
            await hub.status.stop()
            if hub.worker is not None:
                await hub.worker.stop(timeout=settings.shutdown_grace_seconds)
            hub.db.dispose()

    app = FastAPI(title="OpenDIP", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(docs_router)  # Swagger UI from a package, over the whole catalogue export
    app.include_router(messages_router)
    app.include_router(catalogue_router)
    app.include_router(participants_router)
    app.include_router(ops_router)
    app.include_router(ops_pages_router)
    app.include_router(retention_pages_router)
    app.include_router(backlog_pages_router)
    app.add_middleware(MaintenanceGate)
    app.add_middleware(
        Perimeter,
        production=settings.production_mode,
        tokens=[
            token.get_secret_value() if token else None for token in (settings.operator_token, settings.metrics_token)
        ],
        page=lambda request, error: dip_error_page(request, error) if wants_page(request) else None,
    )
    if hosting is not None:  # outermost: a participant's request goes to its environment's app
        app.add_middleware(EnvironmentDispatch, hosting=hosting)
    register_banner()
    app.include_router(portal_actions_router)  # before the portal's /messages/{id}: /messages.json is an action
    app.include_router(environment_view_router)
    app.include_router(portal_router)
    app.include_router(portal_home)
    app.include_router(nfr_router)
    app.include_router(status_router)
    app.include_router(tracking_router)
    app.include_router(replay_router)
    app.include_router(governance_router)
    app.include_router(governance_pages)
    app.include_router(environments_pages)
    app.include_router(testing_router)
    app.include_router(testing_pages)
    for router in (  # sign-in, admin API, management pages, CRL
        login_router,
        session_router,
        accounts_admin_router,
        organisations_admin_router,
        pki_admin_router,
        participants_admin_router,
        manage_router,
        accounts_pages_router,
        pki_public_router,
    ):
        app.include_router(router)
    document_bodies(app)  # the typed bodies the routes read in dependencies, named in /openapi.json

    @app.exception_handler(DipError)
    async def dip_error(request: Request, exc: DipError) -> Response:
        return dip_error_page(request, exc) if wants_page(request) else error_answer(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """A path, query or typed body FastAPI refused: 400 MSG1001 naming each path and rule, never a 422."""
        return await dip_error(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown addresses and the like: a page under /portal or /manage (unless JSON is asked for)."""
        if exc.status_code in (404, 405) and wants_missing_page(request):
            return missing_page(request, exc.status_code)
        if exc.status_code >= 400 and wants_page(request):
            return error_page(request, exc.status_code, str(exc.detail))
        if exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return framework_refusal(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(SignInNeeded)
    async def sign_in(_: Request, exc: SignInNeeded) -> Response:
        """A management page asked for a viewer and there was none: send the browser to /login."""
        return exc.response

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, _: ClientDisconnect) -> Response:
        """The client hung up mid-body: its business, not a fault of ours, so one INFO line and no traceback."""
        log.info("client disconnected before sending the whole body", path=request.url.path)
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        if wants_page(request):
            return error_page(request, 500, "The hub recorded the fault.", "Try again, or tell the operator.")
        return error_answer(DipError(Msg.INTERNAL_ERROR, "the hub recorded the fault"))

    store_file = Path(make_url(settings.effective_database_url).database or "") if settings.is_sqlite else None
    for fault in STORE_FAULTS:

        @app.exception_handler(fault)
        async def store_fault(request: Request, exc: Exception) -> Response:
            """The store is down, full or read-only: 503 + Retry-After, never a 500."""
            if not is_store_fault(exc):
                return await unexpected(request, exc)
            return error_answer(store_unavailable(exc, store_file))

    return app
