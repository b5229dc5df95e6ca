"""An in-memory snapshot of who is registered, for the hot send path.

Every request needs the caller's API key, role, connection-provider links and
certificate status. Reading those from the database per request would cost
more than validating the message, so the hub keeps a snapshot that a
background task reloads every `ttl` seconds (participants added by the CLI
while the hub runs appear within that time) and that unknown keys force to
reload early, at most a few times a second.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.participants import repository
from opendip.pki import repository as certificate_store


def hash_api_key(api_key: str) -> str:
    """API keys are 256-bit random tokens, so one SHA-256 is a safe and fast hash."""
    return hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ParticipantView:
    dip_id: str
    role: str
    name: str
    status: str
    default_webhook_url: str | None
    organisation_id: str | None = None
    sending_stopped: bool = False
    receiving_stopped: bool = False
    rate_per_second: float | None = None
    rate_burst: int | None = None
    daily_quota: int | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class CertificateStatus:
    dip_id: str
    serial: str
    revoked_at: float | None
    revocation_reason: str | None


@dataclass(frozen=True)
class RegistrySnapshot:
    participants: dict[str, ParticipantView] = field(default_factory=dict)
    keys: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    """key hash -> (DIP ID, time the key stops working: a rotated key's overlap end, or None)."""
    represented_by: dict[str, frozenset[str]] = field(default_factory=dict)
    certificates: dict[str, CertificateStatus] = field(default_factory=dict)
    by_role: dict[str, tuple[str, ...]] = field(default_factory=dict)
    loaded_at: float = 0.0

    def caller_for_key(self, api_key: str) -> ParticipantView | None:
        found = self.keys.get(hash_api_key(api_key))
        if found is None or (found[1] is not None and found[1] <= time.time()):
            return None
        return self.participants.get(found[0])

    def may_send_for(self, caller: str, sender: str) -> bool:
        """True when `caller` is a connection provider registered for `sender`."""
        return caller in self.represented_by.get(sender, frozenset())


class Registry:
    def __init__(self, db: Database, ttl: float = 1.0, min_forced_interval: float = 0.2) -> None:
        self._db = db
        self._ttl = ttl
        self._min_forced_interval = min_forced_interval
        self._snapshot = RegistrySnapshot()
        self._reloading = threading.Lock()

    def current(self) -> RegistrySnapshot:
        """The snapshot, reloaded first when older than the TTL.

        One caller reloads; callers arriving meanwhile use the snapshot it replaces (at most a reload
        older than the TTL) rather than each reloading too: under load a reload takes longer, every
        request found the snapshot stale until it ended, and the herd of reloads took a fifth of the
        hub's CPU at saturation. Only the very first load is waited for.
        """
        snapshot = self._snapshot
        if time.time() - snapshot.loaded_at > self._ttl:
            if snapshot.loaded_at == 0.0:
                with self._reloading:
                    if self._snapshot is snapshot:
                        self.reload()
            elif self._reloading.acquire(blocking=False):
                try:
                    self.reload()
                finally:
                    self._reloading.release()
        return self._snapshot

    def reload_if_allowed(self) -> RegistrySnapshot:
        """Reload early (an unknown key may have just been issued), but not more than a few times a second."""
        if time.time() - self._snapshot.loaded_at > self._min_forced_interval:
            self.reload()
        return self._snapshot

    def reload(self) -> RegistrySnapshot:
        with read_engine(self._db).connect() as conn:
            people = repository.all_participants(conn)
            keys = repository.active_api_keys(conn, time.time())
            links = repository.connection_provider_links(conn)
            certs = certificate_store.certificate_rows(conn)
        represented: dict[str, set[str]] = defaultdict(set)
        for dcp, participant in links:
            represented[participant].add(dcp)
        by_role: dict[str, list[str]] = defaultdict(list)
        views: dict[str, ParticipantView] = {}
        for p in people:
            views[p["dip_id"]] = ParticipantView(
                p["dip_id"],
                p["role"],
                p["name"],
                p["status"],
                p["default_webhook_url"],
                organisation_id=p.get("organisation_id"),
                sending_stopped=p.get("sending_stopped_at") is not None,
                receiving_stopped=p.get("receiving_stopped_at") is not None,
                rate_per_second=p.get("rate_per_second"),
                rate_burst=p.get("rate_burst"),
                daily_quota=p.get("daily_quota"),
            )
            by_role[p["role"]].append(p["dip_id"])
        self._snapshot = RegistrySnapshot(
            participants=views,
            keys={key_hash: (dip_id, until) for key_hash, dip_id, until in keys},
            represented_by={k: frozenset(v) for k, v in represented.items()},
            certificates={
                c["fingerprint"]: CertificateStatus(c["dip_id"], c["serial"], c["revoked_at"], c["revocation_reason"])
                for c in certs
            },
            by_role={k: tuple(v) for k, v in by_role.items()},
            loaded_at=time.time(),
        )
        return self._snapshot
