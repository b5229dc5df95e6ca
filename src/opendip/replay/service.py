"""Replay (messages back in the response, page by page) and requeue (re-delivery as a background job).

Both read the same filter over the same sources. Replay answers from a
snapshot fixed by its first page (see tokens.py); requeue fixes the same kind
of snapshot when it is created and counts what it will re-send up front, so
its progress is a fraction of a known total from the first status call.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from opendip.catalogue import Catalogue
from opendip.config import Settings
from opendip.core.archives import refuse_purged_range
from opendip.core.reads import read_engine
from opendip.core.responses import dip_timestamp
from opendip.core.tokens import Cursor, decode
from opendip.db.engine import Database
from opendip.delivery.egress import render
from opendip.delivery.repository import ClaimedDelivery
from opendip.errors import DipError, Msg
from opendip.replay import repository
from opendip.replay.filters import ReplayFilter
from opendip.replay.progress import Progress, progress_of
from opendip.replay.repository import CHANNEL, STATUS
from opendip.replay.tables import requeues


@dataclass(frozen=True)
class Page:
    body: bytes
    count: int
    token: str | None

    @property
    def http_status(self) -> int:
        return 206 if self.token else 200


@dataclass(frozen=True)
class Scope:
    """Whose messages, from which source: what a filter is applied to."""

    kind: str
    recipient: str
    interfaces: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.recipient}:{','.join(self.interfaces)}"

    def query(self, f: ReplayFilter, *columns: Any) -> Select[Any]:
        if self.kind == CHANNEL:
            return repository.channel_query(f, self.recipient, self.interfaces, *columns)
        return repository.status_query(f, self.recipient, *columns)


def channel_scope(catalogue: Catalogue, recipient: str, interface_id: str, f: ReplayFilter) -> Scope:
    """The path's channel plus any `interfaceIDs` of the filter; every one must be catalogued."""
    interfaces = sorted({interface_id.upper(), *f.interfaces})
    for name in interfaces:
        if catalogue.interface(name) is None:
            where = "the URL path" if name == interface_id.upper() else "$.interfaceIDs"
            raise DipError(Msg.UNKNOWN_CHANNEL, f"{where}: {name} is not a catalogued interface")
    return Scope(CHANNEL, recipient, tuple(interfaces))


def status_scope(recipient: str) -> Scope:
    return Scope(STATUS, recipient)


class ReplayService:
    def __init__(self, db: Database, settings: Settings, token_key: bytes) -> None:
        self._db = db
        self.token_key = token_key  # signs continuation tokens (core/tokens.py)
        self._page_size = max(1, settings.replay_page_size)
        self._page_bytes = max(1024, settings.replay_page_bytes)

    def page(self, scope: Scope, f: ReplayFilter, token: str | None) -> Page:
        fingerprint = f.fingerprint()
        with read_engine(self._db).connect() as conn:
            if token:
                cursor = decode(token, scope.name, fingerprint, self.token_key)
            else:
                refuse_purged_range(conn, f.received_from, f.received_before)
                cursor = Cursor(scope.name, fingerprint, 0, repository.newest_id(conn, scope.kind))
            rows = repository.page(conn, scope.kind, scope.query(f), cursor.after, cursor.upto, self._page_size + 1)
        items: list[bytes] = []
        size = 0
        for row in rows[: self._page_size]:
            item = render(ClaimedDelivery(**row._asdict())) if scope.kind == CHANNEL else bytes(row.item)
            if items and size + len(item) > self._page_bytes:
                break
            items.append(item)
            size += len(item) + 1
        more = len(rows) > len(items)
        token_out = None
        if more:
            token_out = Cursor(scope.name, fingerprint, rows[len(items) - 1].id, cursor.upto).encode(self.token_key)
        if scope.kind == CHANNEL:
            body = b"[" + b",".join(items) + b"]"
        else:
            stamp = orjson.dumps(dip_timestamp())
            body = b'{"messageArray":[' + b",".join(items) + b'],"timestamp":' + stamp + b"}"
        return Page(body, len(items), token_out)


class RequeueRunning(DipError):
    """429: the recipient's previous requeue has not finished; `running_id` names it."""

    def __init__(self, running_id: str | None, recipient: str) -> None:
        detail = (
            f"requeue {running_id} is still running for {recipient}"
            if running_id
            else f"a requeue for {recipient} was just finishing"  # gone between our insert and the read
        )
        super().__init__(Msg.REQUEUE_RUNNING, detail, retry_after=5)
        self.running_id = running_id


def new_requeue_id(now: float) -> str:
    return f"RQ-{datetime.fromtimestamp(now, UTC):%Y%m%d}-{secrets.token_hex(8).upper()}"


class RequeueService:
    def __init__(self, db: Database, on_created: Callable[[], None] = lambda: None) -> None:
        self._db = db
        self.on_created = on_created

    def start(self, scope: Scope, f: ReplayFilter) -> str:
        """Create the job (the background runner does the work); 429 while another one runs."""
        now = time.time()
        requeue_id = new_requeue_id(now)
        active_key = f"{scope.kind}:{scope.recipient}"
        with read_engine(self._db).connect() as conn:  # counting 100,000 matches holds up no writer
            refuse_purged_range(conn, f.received_from, f.received_before)
            upto = repository.newest_id(conn, scope.kind)
            total = repository.count(conn, scope.kind, scope.query(f), upto)
        done = total == 0
        try:
            with self._db.begin() as conn:
                conn.execute(
                    requeues.insert().values(
                        id=requeue_id,
                        kind=scope.kind,
                        recipient_dip_id=scope.recipient,
                        interface_id=",".join(scope.interfaces) or None,
                        filters=f.as_json(),
                        status="Completed" if done else "Processing",
                        active_key=None if done else active_key,
                        total=total,
                        enqueued=0,
                        upto_id=upto,
                        cursor_id=upto if done else 0,
                        created_at=now,
                        finished_at=now if done else None,
                        delivered=0,
                        failed=0,
                    )
                )
        except IntegrityError:
            raise RequeueRunning(self._running(active_key), scope.recipient) from None
        self.on_created()
        return requeue_id

    def _running(self, active_key: str) -> str | None:
        with read_engine(self._db).connect() as conn:
            return conn.execute(select(requeues.c.id).where(requeues.c.active_key == active_key)).scalar_one_or_none()

    def status(self, scope: Scope, requeue_id: str | None) -> Progress:
        r = requeues.c
        query = select(requeues).where(r.recipient_dip_id == scope.recipient, r.kind == scope.kind)
        if requeue_id:
            query = query.where(r.id == requeue_id)
        query = query.order_by(r.created_at.desc()).limit(1)
        with read_engine(self._db).connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                what = f"requeue {requeue_id}" if requeue_id else "any requeue"
                raise DipError(Msg.NOT_FOUND, f"{scope.recipient} has no {what}")
            return progress_of(conn, row)
