"""Who would a new catalogue version refuse? Recent messages replayed through its validator.

Before a version is promoted, the messages each participant really sent in
the last N days are validated again under the new version, as of its effective
date. A participant whose messages would now be refused is named, with counts
and a few examples, so they can be warned before the change goes live.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opendip.catalogue import Catalogue
from opendip.messages.history import SentMessage

EXAMPLES_PER_SENDER = 3


@dataclass
class SenderImpact:
    sender: str
    checked: int = 0
    refused: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)


def refused_senders(messages: Iterable[SentMessage], catalogue: Catalogue, at: float) -> dict[str, Any]:
    """Per sender: messages checked, how many the catalogue would refuse at `at`, and why (a few examples)."""
    senders: dict[str, SenderImpact] = {}
    checked = 0
    for message in messages:
        checked += 1
        impact = senders.setdefault(message.sender_dip_id, SenderImpact(message.sender_dip_id))
        impact.checked += 1
        issues = catalogue.validate(message.payload, message.interface_id, at=at)
        if not issues:
            continue
        impact.refused += 1
        if len(impact.examples) < EXAMPLES_PER_SENDER:
            first = issues[0]
            impact.examples.append(
                {
                    "transaction_id": message.transaction_id,
                    "interface_id": message.interface_id,
                    "schema_version": message.schema_version,
                    "code": first.msg.spec.code,
                    "reason": f"{first.path}: {first.text}",
                }
            )
    refused = sorted((i for i in senders.values() if i.refused), key=lambda i: (-i.refused, i.sender))
    return {
        "messages_checked": checked,
        "messages_refused": sum(i.refused for i in refused),
        "senders": [vars(i) for i in refused],
    }
