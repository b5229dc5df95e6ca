"""`env create | list | refresh | reset`: the environments a hub hosts, kept apart, logged where testers see.

The primary environment is the hub's own (its `environment_tag`, its store).
Each created one gets a store of its own (see store.py) migrated to the
newest schema; the primary's store keeps the list, the release ledger and
every environment's event log. A refresh copies participants (reference
data, never credentials or webhooks) and the catalogue line from one
environment to another; a reset wipes an environment's messages and keeps
its participants. The running hub picks each change up within a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.environments import NAME, environment_settings, store_url
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.environments import repository, store
from opendip.errors import DipError, Msg
from opendip.governance import ledger
from opendip.governance import repository as releases
from opendip.governance.environments import EnvironmentRegistry
from opendip.governance.process import load_process
from opendip.participants.reference import copy_reference


@dataclass(frozen=True)
class Environment:
    name: str
    primary: bool
    settings: Settings
    catalogue_of: str
    row: dict[str, Any]


class EnvironmentService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.path = EnvironmentRegistry.load(list(load_process().states))

    @property
    def primary_name(self) -> str:
        return self.settings.environment_tag

    def hosted(self) -> list[Environment]:
        """The created environments (not the primary), as the hub hosts them."""
        with self.db.engine.connect() as conn:
            rows = repository.all_hosted(conn)
        return [self._environment(row) for row in rows]

    def get(self, name: str) -> Environment:
        name = name.upper()
        if name == self.primary_name:
            return Environment(name, True, self.settings, name, {})
        with self.db.engine.connect() as conn:
            row = repository.hosted(conn, name)
        if row is None:
            raise DipError(Msg.NOT_FOUND, f"$.environment: this hub hosts no environment {name}; {self._known()}")
        return self._environment(row)

    def open(self, name: str) -> tuple[Environment, Database]:
        """An environment and its store, migrated (the caller disposes of the store unless it is the primary's)."""
        env = self.get(name)
        if env.primary:
            return env, self.db
        env.settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database.from_url(env.settings.effective_database_url, pool_size=env.settings.database_pool_size)
        upgrade(db.engine)
        return env, db

    def create(self, name: str, actor: Actor) -> Environment:
        name = name.upper()
        if not NAME.match(name):
            raise DipError(Msg.SCHEMA_FAILURE, f"$.name: {name!r} must be 2 to 5 capitals or digits, a letter first")
        if name == self.primary_name:
            raise DipError(Msg.ALREADY_EXISTS, f"$.name: {name} is this hub's own environment")
        url = store_url(self.settings, name)
        with self.db.begin() as conn:
            if repository.hosted(conn, name) is not None:
                raise DipError(Msg.ALREADY_EXISTS, f"$.name: environment {name} already exists")
            repository.insert_hosted(
                conn, {"name": name, "database_url": url, "catalogue_of": name, "created_at": time.time()}
            )
            self._log(conn, name, "created", f"store {_where(url)}; {self.path.place(name)}", actor)
        with self.db.begin() as conn:
            store.ensure_schema(conn, url)
        _, db = self.open(name)
        db.dispose()
        return self.get(name)

    def refresh(self, source: str, target: str, actor: Actor, *, obfuscate: bool = False) -> dict[str, Any]:
        """Participants and the catalogue line of `source` into `target`; messages untouched."""
        src, dst = self.get(source), self.get(target)
        if dst.primary:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.to: {dst.name} is the hub's own environment; refresh a created one")
        (_, src_db), (_, dst_db) = self.open(src.name), self.open(dst.name)
        try:
            with src_db.engine.connect() as read, dst_db.begin() as write:
                copied = copy_reference(read, write, obfuscate=obfuscate)
        finally:
            for db in (src_db, dst_db):
                if db is not self.db:
                    db.dispose()
        detail = (
            f"from {src.name}: {copied} participants{' (names obfuscated)' if obfuscate else ''}, "
            f"catalogue of {src.catalogue_of} (serving {self.serving(src.catalogue_of)})"
        )
        with self.db.begin() as conn:
            repository.update_hosted(conn, dst.name, {"catalogue_of": src.catalogue_of, "refreshed_at": time.time()})
            self._log(conn, dst.name, "refreshed", detail, actor)
        return {"environment": dst.name, "from": src.name, "participants": copied, "catalogueOf": src.catalogue_of}

    def reset(self, name: str, actor: Actor) -> dict[str, Any]:
        """Wipe the environment's messages (and their deliveries, journal, statuses); participants stay."""
        env, db = self.open(name)
        try:
            with db.begin() as conn:
                removed = store.wipe_messages(conn)
        finally:
            if db is not self.db:
                db.dispose()
        with self.db.begin() as conn:
            if not env.primary:
                repository.update_hosted(conn, env.name, {"reset_at": time.time()})
            self._log(conn, env.name, "reset", f"{removed.get('messages', 0)} messages wiped; participants kept", actor)
        return {"environment": env.name, "removed": removed}

    def describe(self) -> list[dict[str, Any]]:
        """Every environment on this hub with what its store holds and the catalogue it serves."""
        described = []
        for env in [self.get(self.primary_name), *self.hosted()]:
            counts = self._counts(env)
            described.append(
                {
                    "name": env.name,
                    "primary": env.primary,
                    "catalogueOf": env.catalogue_of,
                    "catalogueVersion": self.serving(env.catalogue_of),
                    "releasePath": self.path.place(env.name),
                    "store": _where(env.settings.effective_database_url),
                    "createdAt": env.row.get("created_at"),
                    "refreshedAt": env.row.get("refreshed_at"),
                    "resetAt": env.row.get("reset_at"),
                    **counts,
                }
            )
        return described

    def _counts(self, env: Environment) -> dict[str, int]:
        """What an environment's store holds, read without migrating it (creating or opening it does that)."""
        if env.primary:
            with self.db.engine.connect() as conn:
                return repository.counts(conn)
        db = Database.from_url(env.settings.effective_database_url, pool_size=1)
        try:
            with db.engine.connect() as conn:
                return repository.counts(conn)
        finally:
            db.dispose()

    def serving(self, environment: str) -> str:
        """The catalogue version the release ledger has in effect for `environment` now."""
        with self.db.engine.connect() as conn:
            rows = releases.releases(conn, environment)
        return ledger.serving(rows, time.time())

    def events(self, name: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            return repository.events(conn, name.upper() if name else None, limit)

    def log(self, name: str, kind: str, detail: str, actor: Actor) -> None:
        """Record an environment issue (an outage, a roll-back...) where testers see it."""
        env = self.get(name)  # before the transaction: on SQLite a read inside it would wait for its own lock
        with self.db.begin() as conn:
            self._log(conn, env.name, kind, detail, actor)

    def _log(self, conn: Any, name: str, kind: str, detail: str, actor: Actor) -> None:
        repository.add_event(
            conn, {"environment": name, "at": time.time(), "kind": kind, "detail": detail, "actor": actor.who}
        )
        audit.record(conn, actor, f"environment.{kind}", f"environment:{name}", detail={"detail": detail})

    def _environment(self, row: dict[str, Any]) -> Environment:
        settings = environment_settings(self.settings, row["name"])
        return Environment(row["name"], False, settings, row["catalogue_of"], row)

    def _known(self) -> str:
        names = [self.primary_name, *(e.name for e in self.hosted())]
        return "hosted: " + ", ".join(names)


def _where(url: str) -> str:
    """A store's location without credentials."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
