"""Password hashing with argon2id, and the few rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256
# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): costly to guess offline,
# and cheap enough (tens of ms) that sign-in itself is not a denial-of-service lever on 2 cores.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _HASHER.hash("a password nobody has, to spend equal time on unknown users")


class PasswordRejected(ValueError):
    """A new password that does not meet the rules; the message says which."""


def check_rules(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"the password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"the password must be at most {MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise PasswordRejected("the password must not contain the username")
    if len(set(password)) < 5:
        raise PasswordRejected("the password must use at least 5 different characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown user costs the same time as a wrong password."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
