"""Sign-in throttling by account and by source address, with an exponential delay that ends on its own.

A lock that every failure extends lets anyone keep anyone out for good. Here
failures are counted per account name (existing or not, so the answers never
tell which names exist) and per source address; past a threshold each
further failure makes the next attempt wait twice as long as the last, up to
`login_lock_seconds`. Attempts during the wait are refused without reading
the password and without counting, so guessing faster cannot lengthen it.
The right password after the wait clears the account's count; an operator
clears it at once (`PATCH /admin/users/{name}` with `{"unlock": true}`, or a
new password). Counts left quiet for twice the longest wait start again.
The counts live in the store: every API node shares them and a restart keeps them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from opendip.accounts.tables import sign_in_throttle
from opendip.errors import DipError, Msg


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5  # failures before an account name waits
    source_failures: int = 20  # failures from one address (over all names) before it waits
    first_delay: float = 1.0  # the first wait, doubled by each failure after it
    longest_delay: float = 900.0

    def delay(self, failures: int, threshold: int) -> float:
        if failures < threshold:
            return 0.0
        return min(self.longest_delay, self.first_delay * 2.0 ** min(failures - threshold, 40))


def account_key(username: str) -> str:
    return "account:" + username.strip().lower()[:120]


def source_key(source: str) -> str:
    return "source:" + source[:120]


class SignInThrottle:
    def __init__(self, policy: ThrottlePolicy) -> None:
        self.policy = policy

    def check(self, conn: Connection, username: str, source: str, now: float) -> None:
        """Raise MSG4029 (429, Retry-After) while the account name or the source address must wait."""
        t = sign_in_throttle.c
        keys = (account_key(username), source_key(source))
        waits = conn.execute(select(t.key, t.blocked_until).where(t.key.in_(keys), t.blocked_until > now)).all()
        if waits:
            until = max(w.blocked_until for w in waits)
            which = " and ".join(sorted(w.key.split(":", 1)[0] for w in waits))
            raise DipError(
                Msg.RATE_LIMITED,
                f"too many failed sign-ins for this {which}; try again in {math.ceil(until - now)} s",
                retry_after=max(1, math.ceil(until - now)),
            )

    def failed(self, conn: Connection, username: str, source: str, now: float) -> None:
        """Count one failure against the account name and the source address; start their waits if due."""
        for key, threshold in (
            (account_key(username), self.policy.account_failures),
            (source_key(source), self.policy.source_failures),
        ):
            failures = self._count(conn, key, now)
            wait = self.policy.delay(failures, threshold)
            if wait:
                waiting = update(sign_in_throttle).where(sign_in_throttle.c.key == key)
                conn.execute(waiting.values(blocked_until=now + wait))

    def clear(self, conn: Connection, username: str) -> None:
        """The right password after the wait, or an operator: the account name starts afresh."""
        conn.execute(delete(sign_in_throttle).where(sign_in_throttle.c.key == account_key(username)))

    def _count(self, conn: Connection, key: str, now: float) -> int:
        """Add one failure to `key` (one statement, safe against other nodes) and return its count."""
        t = sign_in_throttle.c
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(sign_in_throttle).values(key=key, failures=1, blocked_until=0.0, updated_at=now)
        quiet = t.updated_at < now - 2 * self.policy.longest_delay
        statement = statement.on_conflict_do_update(
            index_elements=[t.key], set_={"failures": case((quiet, 1), else_=t.failures + 1), "updated_at": now}
        )
        conn.execute(statement)
        return int(conn.execute(select(t.failures).where(t.key == key)).scalar_one())
