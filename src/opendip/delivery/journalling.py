"""How one outbox kind's attempts read in the journal: its stage, its word for each outbound status, its reasons.

The settle step (settle.py) decides, for every kind alike, which journal rows
an attempt writes, in the Outbound stage's words (Delivered, RejectedByRecipient,
Retrying, RetriesExhausted, ...). A kind's `Wording` turns those into its own
stage's rows: messages keep them as they are (the Outbound stage); L4 statuses
write them under the StatusMessage stage with its smaller vocabulary, each
reason naming who reported the status. The Paused row of a held group is
worded here too, so a kind's journal voice has one home.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opendip.core.journal import Outbound, Stage, entry
from opendip.delivery.attempts import MESSAGE


def _as_is(row: Any, text: str | None) -> str | None:
    return text


@dataclass(frozen=True)
class Wording:
    """A kind's journal voice: the stage it writes under, its word for each Outbound status, its reasons' framing."""

    kind: str
    """The kind its attempt rows name (attempts.py): 'message' or 'status'."""
    stage: Stage
    words: Mapping[Outbound, str] = field(default_factory=dict)
    """The stage's status for an Outbound one; a status not named here is written as it is."""
    frame: Callable[[Any, str | None], str | None] = _as_is
    """A row's reason as the journal shows it (the L4 kind names the reporter)."""

    def word(self, status: Outbound) -> str:
        return str(self.words.get(status, status))

    def paused(self, transaction_id: str, now: float, recipient: str, reason: str) -> dict[str, Any]:
        """The Paused row of a held row (no webhook, recipient stopped): written once per hold reason."""
        return entry(transaction_id, self.stage, self.word(Outbound.PAUSED), at=now, recipient=recipient, reason=reason)

    def attempted(self, row: Any, status: Outbound, text: str | None, **timing: Any) -> dict[str, Any]:
        """One journal row of an attempt on `row`: the kind's stage and word, the framed reason, the timing."""
        return entry(
            row.transaction_id,
            self.stage,
            self.word(status),
            recipient=row.recipient_dip_id,
            reason=self.frame(row, text),
            **timing,
        )


OUTBOUND = Wording(MESSAGE, Stage.OUTBOUND)
"""Message deliveries: the Outbound stage in its own words."""
