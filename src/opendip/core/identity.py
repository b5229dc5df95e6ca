"""The caller of a DIP route: the participant its API key names, and the signature that proves it.

Ingest, tracking, replay and the edge gate all act on a caller, so its shape
lives on the ground floor. The participant and signature records it carries
are built by the registry and the signature verifier; they are named here only
for type checking, so the ground floor imports no domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opendip.participants.registry import ParticipantView
    from opendip.pki.signing import VerifiedSignature


@dataclass(frozen=True)
class Caller:
    """An authenticated participant: known by its API key, proven by its DIP signature."""

    participant: ParticipantView
    signature: VerifiedSignature

    @property
    def dip_id(self) -> str:
        return self.participant.dip_id
