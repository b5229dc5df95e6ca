"""Classifying a change request: system-only, tier 2, tier 1 (material) or message-definition change.

Section 10's materiality test decides tier 1: a change costing the DIP Manager
over GBP 500k or users over GBP 250k, putting new obligations on parties, or
taking over 24 months. The class decides who determines the change (DIP
Manager, DCAB or the Authority), so every class comes with the sentences that
led to it, for the published initial assessment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Kind = Literal["system_only", "tier_2", "tier_1", "message_definition"]
KINDS: tuple[Kind, ...] = ("system_only", "tier_2", "tier_1", "message_definition")

DIP_MANAGER_COST_LIMIT_GBP = 500_000
USER_COST_LIMIT_GBP = 250_000
DURATION_LIMIT_MONTHS = 24


@dataclass(frozen=True)
class Assessment:
    """What the impact assessment found, in the terms the classification needs."""

    cost_dip_manager_gbp: float = 0.0
    cost_users_gbp: float = 0.0
    new_obligations: bool = False
    duration_months: float = 0.0
    changes_message_definitions: bool = False
    affects_parties: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assessment:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


@dataclass(frozen=True)
class Classification:
    kind: Kind
    material: bool
    message_definition_change: bool
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "material": self.material,
            "messageDefinitionChange": self.message_definition_change,
            "reasons": list(self.reasons),
        }


def _gbp(amount: float) -> str:
    return f"GBP {amount:,.2f}" if amount % 1 else f"GBP {amount:,.0f}"


def classify(found: Assessment) -> Classification:
    """The class of a change and why; a material change is tier 1 whatever else it touches."""
    material: list[str] = []
    if found.cost_dip_manager_gbp > DIP_MANAGER_COST_LIMIT_GBP:
        material.append(
            f"costs the DIP Manager {_gbp(found.cost_dip_manager_gbp)}, over {_gbp(DIP_MANAGER_COST_LIMIT_GBP)}"
        )
    if found.cost_users_gbp > USER_COST_LIMIT_GBP:
        material.append(f"costs users {_gbp(found.cost_users_gbp)}, over {_gbp(USER_COST_LIMIT_GBP)}")
    if found.new_obligations:
        material.append("puts new obligations on parties")
    if found.duration_months > DURATION_LIMIT_MONTHS:
        material.append(f"takes {found.duration_months:g} months, over {DURATION_LIMIT_MONTHS}")
    definition = ["changes message definitions: a catalogue release must be linked"] * bool(
        found.changes_message_definitions
    )
    if material:
        reasons = ["material (tier 1): " + r for r in material] + definition + ["determined by the Authority"]
        return Classification("tier_1", True, found.changes_message_definitions, tuple(reasons))
    below = (
        f"not material: costs {_gbp(found.cost_dip_manager_gbp)} to the DIP Manager and "
        f"{_gbp(found.cost_users_gbp)} to users, no new obligations, {found.duration_months:g} months"
    )
    if found.changes_message_definitions:
        return Classification("message_definition", False, True, (below, *definition, "determined by DCAB"))
    if not found.affects_parties:
        only = (below, "changes only the DIP's own systems: no party's systems or processes are affected")
        return Classification("system_only", False, False, (*only, "determined by the DIP Manager"))
    return Classification(
        "tier_2", False, False, (below, "affects parties' systems or processes", "determined by DCAB")
    )
