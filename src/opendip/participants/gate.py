"""What the edge checks after a caller is authenticated: the TLS client, rate limit, daily quota.

Everything here reads the in-memory registry snapshot and process-local
counters: no database work on the send path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography import x509

from opendip.config import Settings
from opendip.core.identity import Caller
from opendip.errors import AuthenticationError, DipError, Msg
from opendip.participants.limits import Limits, QuotaLedger, RateLimiter, seconds_to_midnight
from opendip.participants.registry import ParticipantView, Registry
from opendip.pki.tls import client_certificate, is_tls
from opendip.pki.trust import dip_id_of, fingerprint


def is_send(scope: Mapping[str, Any]) -> bool:
    """POST /dip-channel/{interfaceID}: the send API (not pubconfig, replay or requeue)."""
    path = str(scope.get("path", ""))
    return scope.get("method") == "POST" and path.startswith("/dip-channel/") and path.count("/") == 2


@lru_cache(maxsize=1024)
def _certificate_identity(pem: str) -> tuple[str, str | None]:
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    return fingerprint(certificate), dip_id_of(certificate)


class EdgeGate:
    def __init__(self, settings: Settings, registry: Registry, ledger: QuotaLedger | None = None) -> None:
        self._settings = settings
        self._registry = registry
        self._limiter = RateLimiter()
        self.ledger = ledger

    def check(self, scope: Mapping[str, Any], caller: Caller, now: float) -> None:
        self.check_tls_client(scope, caller)
        self.check_limits(caller.participant, now, sending=is_send(scope))

    def check_tls_client(self, scope: Mapping[str, Any], caller: Caller) -> None:
        """With mutual TLS, the TLS client certificate must belong to the participant who signed."""
        pem = client_certificate(scope)
        if pem is None:
            if self._settings.tls and is_tls(scope):
                raise AuthenticationError(
                    Msg.TLS_CERTIFICATE_MISSING, "the TLS connection presented no client certificate"
                )
            return
        print_, named = _certificate_identity(pem)
        snapshot = self._registry.current()
        registered = snapshot.certificates.get(print_)
        if registered is None:  # bound by registration, never by the name inside the certificate
            raise AuthenticationError(
                Msg.TLS_CERTIFICATE_NOT_BOUND,
                f"the TLS client certificate {print_[:16]}... (named {named or 'no DIP ID'}) is not registered "
                "with this hub; an operator registers it with `opendip pki register`",
            )
        owner = registered.dip_id
        if registered.revoked_at is not None:
            raise AuthenticationError(
                Msg.CERTIFICATE_REVOKED,
                f"the TLS client certificate {print_[:16]}... was revoked: {registered.revocation_reason or 'revoked'}",
            )
        if owner != caller.dip_id:
            raise AuthenticationError(
                Msg.TLS_CERTIFICATE_NOT_BOUND,
                f"the TLS client certificate belongs to {owner or 'no DIP ID'}, "
                f"but the request is signed by {caller.dip_id}",
            )

    def limits_for(self, participant: ParticipantView) -> Limits:
        s = self._settings
        rate = participant.rate_per_second if participant.rate_per_second is not None else s.rate_limit_per_second
        burst = participant.rate_burst if participant.rate_burst is not None else s.rate_limit_burst
        quota = participant.daily_quota if participant.daily_quota is not None else s.daily_message_quota
        return Limits(rate, burst, quota)

    def check_limits(self, participant: ParticipantView, now: float, *, sending: bool = True) -> None:
        """The rate limit applies to every signed call; the daily quota only to sending messages.

        The quota is checked per request against the ledger, which lags the
        store by at most one refresh: a participant may go over by what it
        sends within that interval, and a batch admitted under the quota is
        stored whole.
        """
        limits = self.limits_for(participant)
        if sending and limits.daily_quota is not None and self.ledger is not None:
            used = self.ledger.used(participant.dip_id)
            if used >= limits.daily_quota:
                raise DipError(
                    Msg.QUOTA_EXHAUSTED,
                    f"{participant.dip_id} has sent {used} messages today (UTC); the quota is {limits.daily_quota}",
                    retry_after=max(1, math.ceil(seconds_to_midnight(now))),
                )
        wait = self._limiter.wait_needed(participant.dip_id, limits)
        if wait > 0:
            raise DipError(
                Msg.RATE_LIMITED,
                f"{participant.dip_id} may make {limits.rate_per_second:g} requests per second "
                f"(bursts of {limits.burst})",
                retry_after=max(1, math.ceil(wait)) if math.isfinite(wait) else 3600,
            )

    @property
    def quotas_in_use(self) -> bool:
        snapshot = self._registry.current()
        return self._settings.daily_message_quota is not None or any(
            p.daily_quota is not None for p in snapshot.participants.values()
        )
