"""Users: creating them within the rules of their roles, passwords, sign-in with lock-out.

Every change is audited in its own transaction. Errors are DipErrors whose
detail names the field (as a JSON path) and the rule, so the admin API, the
portal forms and the CLI all explain a refusal the same way.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opendip.accounts import repository
from opendip.accounts.directory import Organisations
from opendip.accounts.passwords import PasswordRejected, check_rules, hash_password, needs_rehash, verify_password
from opendip.accounts.roles import ORGANISATION_ROLES, Permission, Role, parse_role
from opendip.accounts.tables import users
from opendip.accounts.throttle import SignInThrottle, ThrottlePolicy
from opendip.accounts.viewer import Viewer
from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.errors import DipError, Msg

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
FIRST_OPERATOR = "operator"


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str


def public_user(row: dict[str, Any]) -> dict[str, Any]:
    """A user as the API shows it: never the password hash."""
    return {
        "id": row["id"],
        "username": row["username"],
        "displayName": row["display_name"],
        "email": row["email"],
        "role": row["role"],
        "organisation": row["organisation_id"],
        "disabled": row["disabled_at"] is not None,
        "lockedUntil": row["locked_until"],
        "createdAt": row["created_at"],
    }


class UserService:
    def __init__(self, db: Database, settings: Settings, organisations: Organisations) -> None:
        self._db = db
        self._settings = settings
        self._organisations = organisations
        self._throttle = SignInThrottle(
            ThrottlePolicy(
                account_failures=settings.login_max_failures,
                source_failures=settings.login_source_max_failures,
                first_delay=settings.login_first_delay_seconds,
                longest_delay=settings.login_lock_seconds,
            )
        )

    def create(
        self,
        actor: Viewer | Actor,
        *,
        username: str,
        password: str,
        role: str,
        organisation_id: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
    ) -> dict[str, Any]:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise DipError(Msg.SCHEMA_FAILURE, "$.username: 3-64 characters: lower-case letters, digits and . _ @ -")
        parsed = self._role(role, organisation_id)
        self._may_manage(actor, organisation_id, parsed)
        try:
            check_rules(password, username)
        except PasswordRejected as exc:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.password: {exc}") from None
        now = time.time()
        row = {
            "username": username,
            "display_name": (display_name or username)[:200],
            "email": email,
            "role": parsed.value,
            "organisation_id": organisation_id,
            "password_hash": hash_password(password),
            "failed_logins": 0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._db.begin() as conn:
                if organisation_id is not None and not self._organisations.exists(conn, organisation_id):
                    raise DipError(Msg.SCHEMA_FAILURE, f"$.organisation: no organisation {organisation_id!r}")
                row["id"] = repository.insert_user(conn, row)
                audit.record(
                    conn,
                    _actor(actor),
                    "user.create",
                    f"user:{username}",
                    detail={"role": parsed.value, "organisation": organisation_id},
                )
        except IntegrityError:
            raise DipError(Msg.ALREADY_EXISTS, f"$.username: a user {username!r} already exists") from None
        return public_user({**row, "disabled_at": None, "locked_until": None})

    def update(
        self,
        actor: Viewer | Actor,
        username: str,
        *,
        role: str | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        unlock: bool = False,
    ) -> dict[str, Any]:
        now = time.time()
        with self._db.begin() as conn:
            user = repository.user_by_name(conn, username)
            if user is None:
                raise DipError(Msg.NOT_FOUND, f"no user {username!r}")
            self._may_manage(actor, user["organisation_id"], Role(user["role"]))
            values: dict[str, Any] = {"updated_at": now}
            changed: dict[str, Any] = {}
            if role is not None:
                parsed = self._role(role, user["organisation_id"])
                self._may_manage(actor, user["organisation_id"], parsed)
                values["role"] = changed["role"] = parsed.value
            if display_name is not None:
                values["display_name"] = changed["displayName"] = display_name[:200]
            if email is not None:
                values["email"] = changed["email"] = email
            if password is not None:
                try:
                    check_rules(password, user["username"])
                except PasswordRejected as exc:
                    raise DipError(Msg.SCHEMA_FAILURE, f"$.password: {exc}") from None
                values["password_hash"] = hash_password(password)
                values["failed_logins"] = 0
                values["locked_until"] = None
                changed["password"] = "changed"
            if unlock or password is not None:  # an operator ends the account's sign-in wait
                self._throttle.clear(conn, user["username"])
                changed["unlocked"] = True
            if disabled is not None:
                values["disabled_at"] = now if disabled else None
                changed["disabled"] = disabled
            repository.update_user(conn, user["id"], values)
            if password is not None or disabled:
                repository.revoke_user_sessions(conn, user["id"], now)
            audit.record(conn, _actor(actor), "user.update", f"user:{user['username']}", detail=changed)
            user.update(values)
        return public_user(user)

    def list_for(self, viewer: Viewer) -> list[dict[str, Any]]:
        with self._db.begin() as conn:
            rows = repository.list_users(conn, None if viewer.hub_wide else viewer.organisation_id)
        return [public_user(r) for r in rows]

    def any_users(self) -> bool:
        """Whether sign-in is in force: the portal trusts the hub's own machine only until a user exists."""
        with read_engine(self._db).connect() as conn:
            return conn.execute(select(users.c.id).limit(1)).first() is not None

    def first_operator(self, actor: Actor, username: str = FIRST_OPERATOR) -> str | None:
        """On a hub with no users, create an operator and return its new password (shown once, never stored).

        `make run` calls this so a newcomer can open the management pages at
        once; on a hub that already has users it does nothing and answers None.
        """
        if self.any_users():
            return None
        password = secrets.token_urlsafe(12)
        while len(set(password)) < 5 or username in password.lower():  # the rules' odds of failing are tiny
            password = secrets.token_urlsafe(12)
        self.create(actor, username=username, password=password, role=Role.OPERATOR.value)
        return password

    def sign_in(self, username: str, password: str, source: str) -> SignedIn:
        """Check a password, throttled per account name and per source address (accounts/throttle.py)."""
        username = username.strip().lower()
        now = time.time()
        attempt = Actor(f"user:{username[:64]}", source)
        target = f"user:{username[:64]}"
        try:
            with self._db.begin() as conn:
                self._throttle.check(conn, username, source, now)
                user = repository.user_by_name(conn, username)
        except DipError as exc:  # waiting: refused without reading the password, and audited
            with self._db.begin() as conn:
                detail = {"reason": "throttled", "detail": exc.detail}
                audit.record(conn, attempt, "session.sign_in", target, outcome="refused", detail=detail)
            raise
        ok = verify_password(user["password_hash"] if user else None, password)
        reason = None
        if user is None or not ok:
            reason = "wrong username or password"
        elif user["disabled_at"] is not None:
            reason = "account disabled"
        with self._db.begin() as conn:
            if reason is not None:
                if not ok:
                    self._throttle.failed(conn, username, source, now)
                audit.record(conn, attempt, "session.sign_in", target, outcome="refused", detail={"reason": reason})
            else:
                assert user is not None
                self._throttle.clear(conn, username)
                values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
                if needs_rehash(user["password_hash"]):
                    values["password_hash"] = hash_password(password)
                repository.update_user(conn, user["id"], values)
        if reason is not None:
            # The same answer whatever the reason, so sign-in cannot be used to probe accounts.
            raise DipError(Msg.SIGN_IN_FAILED, "the username or password is wrong, or the account is disabled")
        assert user is not None
        return SignedIn(user["id"], user["username"])

    @staticmethod
    def _role(text: str, organisation_id: str | None) -> Role:
        role = parse_role(text)
        if role is None:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.role: one of {', '.join(r.value for r in Role)}; got {text!r}")
        if role is Role.OPERATOR and organisation_id is not None:
            raise DipError(Msg.SCHEMA_FAILURE, "$.organisation: a hub operator belongs to no organisation")
        if role in ORGANISATION_ROLES - {Role.AUDITOR} and organisation_id is None:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.organisation: a {role.label} belongs to an organisation")
        return role

    @staticmethod
    def _may_manage(actor: Viewer | Actor, organisation_id: str | None, role: Role) -> None:
        """Operators manage anyone; a Primary User Admin manages non-operator users of their organisation."""
        if isinstance(actor, Actor):
            return  # the CLI runs as the operator
        actor.require(Permission.MANAGE_USERS)
        if actor.is_operator:
            return
        if organisation_id != actor.organisation_id or role not in ORGANISATION_ROLES:
            raise DipError(
                Msg.PERMISSION_DENIED,
                f"a {actor.role.label} manages only {', '.join(sorted(r.value for r in ORGANISATION_ROLES))} "
                f"users of organisation {actor.organisation_id}",
            )


def _actor(actor: Viewer | Actor) -> Actor:
    return actor.actor if isinstance(actor, Viewer) else actor
