"""Catalogue releases: register a version for its change request, promote it, roll it back.

A version moves along the release path (SIT, UIT, PRD) one environment at a
time, each only once its change request has reached the state that
environment requires and the version is already in the environment before.
A promotion shows what changed and who, among recent senders, the new version
would refuse; it takes hold at its effective moment. A rollback is one action:
the version before the last promotion is served again from now. Every step is
a ledger row and an audit entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from opendip.catalogue import Catalogue
from opendip.catalogue.tooling.diff import CatalogueDiff
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.bounded import BoundedCache
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.governance import ledger, repository, versions
from opendip.governance.environments import EnvironmentRegistry, ReleaseEnvironment
from opendip.governance.impact import refused_senders
from opendip.governance.service import ChangeRequestService
from opendip.messages.history import sent_since

VERSION_NAME_LIMIT = 40
DEFAULT_LOOKBACK_DAYS = 30


def target_of(environment: str) -> str:
    """How the audit log names an environment's catalogue."""
    return f"catalogue:{environment}"


class ReleaseService:
    def __init__(
        self,
        db: Database,
        requests: ChangeRequestService,
        base: Catalogue,
        cache: Path,
        *,
        environments: EnvironmentRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.requests = requests
        self.base = base
        self.cache = cache
        self.environments = environments or EnvironmentRegistry.load(list(requests.process.states))
        self.clock = clock
        self._compiled: BoundedCache[tuple[str, str], Catalogue] = BoundedCache(8)  # each is megabytes

    # -- versions ----------------------------------------------------------------------------------------------

    def register(self, actor: Actor, version: str, directory: Path, cr_ref: str) -> dict[str, Any]:
        """Freeze the catalogue in `directory` as `version`, linked to the message-definition CR `cr_ref`."""
        if not version or len(version) > VERSION_NAME_LIMIT or version == ledger.BASE or not version.isprintable():
            raise DipError(Msg.SCHEMA_FAILURE, f"$.version: 1 to {VERSION_NAME_LIMIT} characters, not {ledger.BASE!r}")
        files = versions.read_files(directory)
        packed, digest = versions.pack(files)
        changes = CatalogueDiff(self.base, versions.load_version(packed, digest, self.cache, None)).changes
        now = self.clock()
        with self.db.begin() as conn:
            if repository.version(conn, version) is not None:
                raise DipError(Msg.ALREADY_EXISTS, f"catalogue version {version} is already registered")
            self.requests.link_version(conn, actor, cr_ref, version)
            repository.insert_version(
                conn,
                {
                    "version": version,
                    "cr_ref": cr_ref,
                    "digest": digest,
                    "files": packed,
                    "changes": orjson.dumps([vars(c) for c in changes]).decode(),
                    "created_at": now,
                    "created_by": actor.who[:120],
                },
            )
            detail = {"cr": cr_ref, "digest": digest, "files": len(files), "changes": len(changes)}
            audit.record(conn, actor, "release.register", f"catalogue_version:{version}", detail=detail, at=now)
        return {"version": version, "cr_ref": cr_ref, "digest": digest, "changes": [vars(c) for c in changes]}

    def list_versions(self) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = repository.versions(conn)
        return [{**row, "changes": orjson.loads(row["changes"])} for row in rows]

    def catalogue(self, version: str, environment: str) -> Catalogue:
        """A version compiled for an environment (kept: compiling a catalogue takes a moment)."""
        key = (version, environment)
        found = self._compiled.get(key)
        if found is None:
            if version == ledger.BASE:
                found = self.base if self.base.environment == environment else self.base.bound_to(environment)
            else:
                with self.db.engine.connect() as conn:
                    row = repository.version(conn, version)
                if row is None:
                    raise DipError(Msg.NOT_FOUND, f"no catalogue version {version}; register it first")
                found = versions.load_version(row["files"], row["digest"], self.cache, environment)
            self._compiled.put(key, found)
        return found

    # -- the ledger --------------------------------------------------------------------------------------------

    def ledger(self, environment: str | None = None) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = repository.releases(conn, environment.upper() if environment else None)
        return [{**row, "report": orjson.loads(row["report"])} for row in rows]

    def serving(self, environment: str, at: float | None = None) -> str:
        return ledger.serving(self.ledger(environment), self.clock() if at is None else at)

    def timeline(self, environment: str) -> list[tuple[float, Catalogue]]:
        """What `environment` serves from when, as compiled catalogues, for the hub's served catalogue."""
        return [(start, self.catalogue(v, environment)) for start, v in ledger.timeline(self.ledger(environment))]

    def status(self) -> list[dict[str, Any]]:
        """Per environment on the path: the version served now and any scheduled later."""
        now = self.clock()
        found = []
        for name in self.environments.names():
            rows = self.ledger(name)
            upcoming = [{"from": s, "version": v} for s, v in ledger.timeline(rows) if s > now]
            found.append({"environment": name, "serving": ledger.serving(rows, now), "scheduled": upcoming})
        return found

    # -- promotion and rollback --------------------------------------------------------------------------------

    def preview(
        self,
        version: str,
        environment: str,
        *,
        effective: float | None = None,
        lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    ) -> dict[str, Any]:
        """What promoting `version` to `environment` would change, and whose recent messages it would refuse."""
        env = self.environments.get(environment)
        at = self.clock() if effective is None else effective
        old_version = ledger.serving(self.ledger(env.name), at)
        new = self.catalogue(version, env.name)
        changes = CatalogueDiff(self.catalogue(old_version, env.name), new).changes
        since = time.time() - lookback_days * 86400  # messages carry the wall-clock time they were received
        impact = refused_senders(sent_since(self.db, environment=env.name, since=since), new, at)
        return {
            "environment": env.name,
            "version": version,
            "replaces": old_version,
            "effective_from": at,
            "changes": [vars(c) for c in changes],
            "breaking": sum(c.breaking for c in changes),
            "lookback_days": lookback_days,
            "impact": impact,
        }

    def promote(
        self,
        actor: Actor,
        version: str,
        environment: str,
        *,
        effective: float | None = None,
        lookback_days: float = DEFAULT_LOOKBACK_DAYS,
    ) -> dict[str, Any]:
        """Promote `version` to `environment` from `effective` (default now) if its CR and the path allow."""
        env = self.environments.get(environment)
        now = self.clock()
        at = now if effective is None else effective
        try:
            cr_ref = self._check_promotion(version, env, at, now)
        except DipError as refused:
            why = {"version": version, "reason": refused.detail}
            audit.record_alone(self.db, actor, "release.promote", target_of(env.name), outcome="refused", detail=why)
            raise
        report = self.preview(version, env.name, effective=at, lookback_days=lookback_days)
        with self.db.begin() as conn:
            report["id"] = repository.insert_release(
                conn,
                {
                    "environment": env.name,
                    "action": "promote",
                    "version": version,
                    "previous_version": report["replaces"],
                    "effective_from": at,
                    "reverts": None,
                    "cr_ref": cr_ref,
                    "at": now,
                    "actor": actor.who[:120],
                    "report": orjson.dumps(report).decode(),
                },
            )
            detail: dict[str, Any] = {
                "version": version,
                "replaces": report["replaces"],
                "effective_from": at,
                "cr": cr_ref,
                "senders_refused": [s["sender"] for s in report["impact"]["senders"]],
            }
            audit.record(conn, actor, "release.promote", target_of(env.name), detail=detail, at=now)
        return report

    def rollback(self, actor: Actor, environment: str) -> dict[str, Any]:
        """Serve again, from now, the version the last promotion replaced; cancels it if not yet in force."""
        env = self.environments.get(environment)
        now = self.clock()
        with self.db.begin() as conn:
            rows = repository.releases(conn, env.name)
            last = ledger.last_promotion(rows)
            if last is None:
                raise DipError(Msg.CHANGE_NOT_ALLOWED, f"nothing to roll back in {env.name}: no promotion in force")
            row = {
                "environment": env.name,
                "action": "rollback",
                "version": last["previous_version"],
                "previous_version": last["version"],
                "effective_from": now,
                "reverts": last["id"],
                "cr_ref": last["cr_ref"],
                "at": now,
                "actor": actor.who[:120],
                "report": "{}",
            }
            row_id = repository.insert_release(conn, row)
            detail = {"version": last["previous_version"], "rolled_back": last["version"], "reverts": last["id"]}
            audit.record(conn, actor, "release.rollback", target_of(env.name), detail=detail, at=now)
        return {**row, "id": row_id, "report": {}}

    def _check_promotion(self, version: str, env: ReleaseEnvironment, at: float, now: float) -> str:
        with self.db.engine.connect() as conn:
            row = repository.version(conn, version)
            if row is None:
                raise DipError(Msg.NOT_FOUND, f"no catalogue version {version}; register it first")
            cr = repository.request(conn, row["cr_ref"])
        assert cr is not None  # a version is only registered against an existing CR
        if not self._reached(cr["state"], env.requires):
            raise DipError(
                Msg.CHANGE_NOT_ALLOWED,
                f"{cr['ref']} is {cr['state']}: promotion to {env.name} needs it {env.requires} or further on",
            )
        if at < now - 1:
            raise DipError(Msg.SCHEMA_FAILURE, "$.effective: the effective moment may not be in the past")
        if env.previous is not None and not ledger.scheduled(self.ledger(env.previous), version):
            raise DipError(Msg.CHANGE_NOT_ALLOWED, f"promote {version} to {env.previous} before {env.name}")
        if ledger.serving(self.ledger(env.name), at) == version:
            raise DipError(Msg.CHANGE_NOT_ALLOWED, f"{env.name} already serves {version} from then")
        return str(cr["ref"])

    def _reached(self, state: str, required: str) -> bool:
        """True when `state` is `required` or a state the process reaches from it."""
        seen, frontier = {required}, [required]
        while frontier:
            for following in self.requests.process.next_states(frontier.pop()):
                if following.name not in seen and not following.abandoned:
                    seen.add(following.name)
                    frontier.append(following.name)
        return state in seen
