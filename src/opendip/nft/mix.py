"""What the load is made of: the catalogue's example messages, by weight, made fresh for each request.

Each payload is a deep copy of an example with the sender replaced by the
participant being played, a new senderUniqueReference and timestamp, and a
new MPAN (valid check digit) wherever the example carries one, so a target
that refuses duplicates or checks MPANs sees realistic traffic.
"""

from __future__ import annotations

import copy
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opendip.simulator.examples import GSP_GROUPS, dip_datetime, mpan_core, unique_reference

Payload = dict[str, Any]


class MixError(ValueError):
    """The requested mix cannot be built from the examples at hand."""


@dataclass(frozen=True)
class Sender:
    """Who the generator plays and how it addresses its messages."""

    dip_id: str
    role: str
    environment: str = "DEV"
    recipients: tuple[str, ...] = ()  # replaces each example's primaryRecipients when given
    distributor: str | None = None  # replaces each example's M0.distributorDIPID when given


def parse_weights(text: str | None) -> dict[str, float]:
    """`IF-043=3,IF-044=1` (or `IF-043,IF-044`, weight 1 each) -> {interface: weight}."""
    if not text:
        return {}
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        try:
            value = float(weight) if weight else 1.0
        except ValueError as exc:
            raise MixError(f"--mix {part!r}: the weight must be a number") from exc
        if value <= 0:
            raise MixError(f"--mix {part!r}: the weight must be above 0")
        weights[name.strip().upper()] = value
    return weights


class MessageMix:
    """Draws interfaces by weight and builds fresh payloads from their examples."""

    def __init__(
        self,
        examples: dict[str, list[Payload]],
        sender: Sender,
        weights: dict[str, float] | None = None,
        *,
        seed: int = 0,
    ) -> None:
        self.sender = sender
        chosen = weights or {i: 1.0 for i, items in examples.items() if _sent_by(items, sender.role)}
        if not chosen:
            raise MixError(f"no catalogue example is sent by role {sender.role}; name interfaces with --mix")
        missing = sorted(set(chosen) - set(examples))
        if missing:
            raise MixError(f"no catalogue example for {', '.join(missing)}")
        self.weights = dict(sorted(chosen.items()))
        self._examples = {i: examples[i] for i in self.weights}
        self._names = list(self.weights)
        self._cumulative = list(itertools.accumulate(self.weights.values()))
        self._rng = random.Random(seed)
        self._mpans = itertools.count(self._rng.randrange(10**9))

    def draw(self) -> str:
        """The next interface, with probability proportional to its weight."""
        return self._rng.choices(self._names, cum_weights=self._cumulative)[0]

    def batch(self, size: int) -> tuple[str, list[Payload]]:
        """One request's worth: `size` fresh payloads of one drawn interface."""
        interface_id = self.draw()
        return interface_id, [self.fresh(interface_id) for _ in range(size)]

    def fresh(self, interface_id: str) -> Payload:
        example = self._rng.choice(self._examples[interface_id])
        payload = copy.deepcopy(example)
        common = payload["CommonBlock"]
        now = datetime.now(UTC)
        common["S1"] = {
            **common.get("S1", {}),
            "environmentTag": self.sender.environment,
            "senderUniqueReference": unique_reference(interface_id, self.sender.dip_id, self.sender.role, now),
            "senderTimestamp": dip_datetime(now),
            "senderDIPID": self.sender.dip_id,
            "senderRoleID": self.sender.role,
            "DIPConnectionProviderID": None,  # the player sends for itself
        }
        common.pop("D0", None)
        if isinstance(common.get("M0"), dict):
            mpan = mpan_core(next(self._mpans))
            common["M0"]["MPANCore"] = mpan
            common["M0"]["GSPGroupID"] = GSP_GROUPS[int(mpan) % len(GSP_GROUPS)]
            if self.sender.distributor:
                common["M0"]["distributorDIPID"] = self.sender.distributor
        if self.sender.recipients and isinstance(common.get("A0"), dict):
            common["A0"]["primaryRecipients"] = list(self.sender.recipients)
        return payload


def _sent_by(items: list[Payload], role: str) -> bool:
    return any(item.get("CommonBlock", {}).get("S1", {}).get("senderRoleID") == role for item in items)
