"""Store faults answered as what they are: the hub cannot store now, so the sender should retry (503).

A database that is unreachable, full or read-only is not an internal error of
the request: nothing was accepted, the sender's message is safe with the
sender, and the same request will succeed once the store is back. Answering
503 with Retry-After (MSG5003) says exactly that; a 500 would not.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog
from prometheus_client import Counter
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from opendip.errors import DipError, Msg

STORE_FAULTS = (OperationalError, InterfaceError, PoolTimeout, InternalError)
RETRY_AFTER_SECONDS = 5
FAULTS = Counter("opendip_store_faults_total", "Requests answered 503 because the store could not be used", ["kind"])
log = structlog.get_logger(__name__)

_KINDS = (
    ("full", ("disk is full", "no space left", "could not extend file", "database or disk is full")),
    ("read-only", ("readonly", "read-only", "read only")),
)
_DETAILS = {
    "full": "the hub's store is full; nothing was stored and the operator is alerted",
    "read-only": "the hub's store is read-only; nothing was stored and the operator is alerted",
    "unreachable": "the hub's store is unreachable; nothing was stored",
}


def fault_kind(exc: BaseException) -> str:
    text = str(exc).lower()
    for kind, needles in _KINDS:
        if any(needle in text for needle in needles):
            return kind
    return "unreachable"


def is_store_fault(exc: BaseException) -> bool:
    """Internal errors are store faults only when the store turned read-only (a demoted primary)."""
    return not isinstance(exc, InternalError) or fault_kind(exc) == "read-only"


def store_file_read_only(store_file: Path | None) -> bool:
    """Whether an SQLite store's file (or its write-ahead log) refuses writes now.

    A read-only mount, an immutable file or lost permissions all show here,
    whatever SQLite made of the failed write ("disk I/O error" for writes
    through an already-open handle, "unable to open" for new connections).
    """
    if store_file is None:
        return False
    wal = store_file.with_name(store_file.name + "-wal")
    return any(path.exists() and not os.access(path, os.W_OK) for path in (store_file, wal))


def store_unavailable(exc: BaseException, store_file: Path | None = None) -> DipError:
    """The DIP answer for a request the store could not serve; `store_file` names an SQLite store."""
    kind = fault_kind(exc)
    if kind == "unreachable" and store_file_read_only(store_file):
        kind = "read-only"
    FAULTS.labels(kind).inc()
    log.warning("store fault answered 503", kind=kind, error=f"{type(exc).__name__}: {exc}"[:300])
    return DipError(Msg.UNAVAILABLE, _DETAILS[kind], retry_after=RETRY_AFTER_SECONDS)
