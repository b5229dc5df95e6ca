"""What the simulated participants saw: every send's L3 answer, every webhook answer, every L4.

The summary of a market run is built from this record plus the hub's own
final states, so the two can be compared: a participant's view against the
hub's store.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_CODE = re.compile(r"^\s*([A-Z]{3}\d{4})\b")


def code_of(message: Any) -> str:
    """`MSG0000` from `MSG0000 - Success`; `none` when the answer carries no code."""
    match = _CODE.match(message) if isinstance(message, str) else None
    return match.group(1) if match else "none"


@dataclass
class Ledger:
    sent: Counter[tuple[str, str, str, int, str]] = field(default_factory=Counter)
    transactions: dict[str, tuple[str, str]] = field(default_factory=dict)
    send_errors: Counter[str] = field(default_factory=Counter)
    webhook_answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    recipient_codes: Counter[str] = field(default_factory=Counter)
    l4: Counter[tuple[str, str]] = field(default_factory=Counter)
    l4_hub_answers: Counter[str] = field(default_factory=Counter)
    step_errors: Counter[str] = field(default_factory=Counter)
    left_to_real_participants: int = 0
    duplicates_sent: int = 0
    outage_answers: int = 0

    def record_send(self, interface: str, event: str, role: str, http: int, items: list[dict[str, Any]]) -> None:
        """One message's L3 answer (a batch records one line per message)."""
        for item in items or [{}]:
            code = code_of(item.get("message"))
            self.sent[(interface, event, role, http, code)] += 1
            tx = item.get("transactionID")
            if http == 201 and isinstance(tx, str):
                self.transactions[tx] = (interface, role)

    def record_answer(self, recipient_role: str, http: int, codes: list[str]) -> None:
        self.webhook_answers[(recipient_role, http)] += 1
        self.recipient_codes.update(codes)

    def record_l4(self, mode: str, code: str, hub_answer: str) -> None:
        self.l4[(mode, code)] += 1
        self.l4_hub_answers[hub_answer] += 1

    def by(self, position: int) -> dict[str, int]:
        """Sent messages counted by one part of the (interface, event, role, http, code) key."""
        counts: Counter[str] = Counter()
        for key, n in self.sent.items():
            counts[str(key[position])] += n
        return dict(sorted(counts.items()))
