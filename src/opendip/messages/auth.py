"""Who is calling: API key, then the DIP signature, then the certificate's owner.

Authentication answers 401 (we do not know who you are); the per-message
checks in `authorise_sender` answer 403 (we know you, and you may not do this).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from opendip.catalogue.model import Interface
from opendip.core.identity import Caller
from opendip.errors import AuthenticationError, AuthorisationError, Msg
from opendip.participants.registry import ParticipantView, Registry, RegistrySnapshot
from opendip.pki.signing import SignatureVerifier, VerifiedSignature
from opendip.pki.trust import TrustStore

API_KEY_HEADER = "x-api-key"


class Authenticator:
    def __init__(self, registry: Registry, trust: TrustStore, max_skew_seconds: float) -> None:
        self._registry = registry
        self._verifier = SignatureVerifier(trust, max_skew_seconds, is_revoked=self._revocation_reason)

    def _revocation_reason(self, cert: x509.Certificate) -> str | None:
        status = self._registry.current().certificates.get(cert.fingerprint(hashes.SHA256()).hex())
        if status is None or status.revoked_at is None:
            return None
        return status.revocation_reason or "revoked"

    def identify(self, headers: Mapping[str, str]) -> ParticipantView:
        """The participant the X-API-Key belongs to: checked before the body is read, so a stranger's
        body is never read at all."""
        api_key = headers.get(API_KEY_HEADER) or headers.get("X-API-Key")
        if not api_key:
            raise AuthenticationError(Msg.API_KEY_MISSING, "no X-API-Key header")
        participant = self._registry.current().caller_for_key(api_key)
        if participant is None:
            participant = self._registry.reload_if_allowed().caller_for_key(api_key)
        if participant is None:
            raise AuthenticationError(Msg.API_KEY_INVALID, "the X-API-Key is not recognised")
        return participant

    def verify(
        self, participant: ParticipantView, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        """The DIP signature over the body, by a certificate bound to the participant `identify` found."""
        verified = self._verifier.verify(method, url, headers, body)
        self._check_binding(participant, verified)
        if not participant.active:
            raise AuthorisationError(Msg.PARTICIPANT_SUSPENDED, f"participant {participant.dip_id} is suspended")
        return Caller(participant, verified)

    def authenticate(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Caller:
        return self.verify(self.identify(headers), method, url, headers, body)

    def _check_binding(self, participant: ParticipantView, verified: VerifiedSignature) -> None:
        """The signing certificate must be one the hub registered to this participant, by fingerprint.

        Never by the name inside it: a certificate from a trusted CA that the hub
        has no record of (never registered, or minted outside the hub's books)
        could not be revoked through the hub, so it is not accepted at all.
        """
        registered = self._registry.current().certificates.get(verified.fingerprint)
        if registered is None:  # registered a moment ago on another node?
            registered = self._registry.reload_if_allowed().certificates.get(verified.fingerprint)
        if registered is None:
            raise AuthenticationError(
                Msg.CERTIFICATE_NOT_BOUND,
                f"the signing certificate {verified.fingerprint[:16]}... is not registered with this hub "
                f"(named {verified.dip_id or 'no DIP ID'}); an operator registers it with `opendip pki register`",
            )
        if registered.dip_id != participant.dip_id:
            raise AuthenticationError(
                Msg.CERTIFICATE_NOT_BOUND,
                f"the signing certificate belongs to {registered.dip_id}, "
                f"but the API key belongs to {participant.dip_id}",
            )


def authorise_sender(
    caller: Caller, snapshot: RegistrySnapshot, interface: Interface, sender_block: Mapping[str, Any]
) -> None:
    """The caller may send this message as S1 says: itself, or as a registered connection provider."""
    sender = sender_block.get("senderDIPID")
    provider = sender_block.get("DIPConnectionProviderID")
    if sender != caller.dip_id:
        if not snapshot.may_send_for(caller.dip_id, str(sender)):
            raise AuthorisationError(
                Msg.SENDER_NOT_CALLER,
                f"$.payload.CommonBlock.S1.senderDIPID is {sender}, but you are {caller.dip_id} "
                f"and not a registered connection provider for {sender}",
            )
        if provider != caller.dip_id:
            raise AuthorisationError(
                Msg.DCP_NOT_REGISTERED,
                f"$.payload.CommonBlock.S1.DIPConnectionProviderID must be {caller.dip_id} "
                f"when you send for {sender}; got {provider}",
            )
    elif provider not in (None, caller.dip_id):
        raise AuthorisationError(
            Msg.DCP_NOT_REGISTERED,
            f"$.payload.CommonBlock.S1.DIPConnectionProviderID is {provider}, "
            "but the message was not sent by that provider",
        )
    registered = snapshot.participants.get(str(sender))
    role = sender_block.get("senderRoleID")
    if registered is None:
        raise AuthorisationError(
            Msg.SENDER_NOT_CALLER, f"$.payload.CommonBlock.S1.senderDIPID: {sender} is not a registered participant"
        )
    if registered.role != role:
        raise AuthorisationError(
            Msg.ROLE_MISMATCH,
            f"$.payload.CommonBlock.S1.senderRoleID is {role}, but {sender} is registered as {registered.role}",
        )
    if not registered.active:
        raise AuthorisationError(Msg.PARTICIPANT_SUSPENDED, f"participant {sender} is suspended")
    if registered.sending_stopped:  # the participant stopped its outbound sending
        raise AuthorisationError(Msg.SENDING_STOPPED, f"participant {sender} has stopped its outbound sending")
    if interface.sender_roles and role not in interface.sender_roles:
        raise AuthorisationError(
            Msg.ROLE_NOT_ENTITLED,
            f"role {role} may not send {interface.id}; allowed: {', '.join(sorted(interface.sender_roles))}",
        )
