"""The change process as data: states, who may move a change request into each, and from where.

`process.yaml` holds the release process's RACI table; this module reads it
once and answers the one question the service asks: may this role move this
change request to that state now? A refusal names what would be allowed, so
nobody has to read the YAML to find the right next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from opendip.governance.classification import KINDS

PROCESS_FILE = Path(__file__).resolve().parent / "process.yaml"
RACI_LETTERS = frozenset({"R", "A", "C", "I", "RA"})


class MoveRefused(Exception):
    """A move the process does not allow; `text` says why and what is allowed instead."""

    def __init__(self, text: str, *, wrong_role: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.wrong_role = wrong_role


@dataclass(frozen=True)
class State:
    name: str
    label: str
    step: str
    sources: tuple[str, ...]
    raci: Mapping[str, str]
    decided_by: Mapping[str, tuple[str, ...]] | None = None
    due_days: int | None = None
    final: bool = False
    needs: str | None = None
    abandoned: bool = False

    def movers(self, classification: str | None) -> tuple[str, ...]:
        """Roles that may move a CR into this state (R in the RACI, or the decision-maker of its class)."""
        if self.decided_by is not None:
            return self.decided_by.get(classification or "", ())
        return tuple(role for role, letters in self.raci.items() if "R" in letters)


@dataclass(frozen=True)
class Process:
    roles: Mapping[str, str]
    states: Mapping[str, State] = field(default_factory=dict)

    @property
    def first(self) -> State:
        return next(iter(self.states.values()))

    def state(self, name: str) -> State:
        found = self.states.get(name)
        if found is None:
            raise MoveRefused(f"unknown state {name!r}; states: {', '.join(self.states)}")
        return found

    def next_states(self, current: str) -> list[State]:
        return [state for state in self.states.values() if current in state.sources]

    def check_role(self, role: str) -> None:
        if role not in self.roles:
            raise MoveRefused(f"unknown role {role!r}; roles: {', '.join(self.roles)}", wrong_role=True)

    def check_move(self, ref: str, current: str, target: str, role: str, classification: str | None) -> State:
        """The target state if `role` may move the CR there from `current`; MoveRefused otherwise."""
        self.check_role(role)
        to = self.state(target)
        nexts = self.next_states(current)
        if current not in to.sources:
            allowed = ", ".join(s.name for s in nexts) or "nothing (it is closed)"
            raise MoveRefused(f"{ref} is {current}: from {current} it may move to {allowed}; not to {target}")
        movers = to.movers(classification)
        if to.decided_by is not None and not movers:
            raise MoveRefused(f"{ref} has no classification: classify it before it moves to {target}")
        if role not in movers:
            whom = " or ".join(self.roles[r] for r in movers)
            why = f" for a {classification} change" if to.decided_by is not None else ""
            mine = [s.name for s in nexts if role in s.movers(classification)]
            yours = f"; as {role} you may move it to {', '.join(mine)}" if mine else ""
            raise MoveRefused(
                f"only {whom} ({', '.join(movers)}) may move {ref} to {target}{why}; you act as {role}{yours}",
                wrong_role=True,
            )
        return to

    def raci_rows(self) -> list[dict[str, Any]]:
        """The RACI table for pages and exports: one row per step, one column per role."""
        return [
            {"state": s.name, "step": s.step, **{role: s.raci.get(role, "") for role in self.roles}}
            for s in self.states.values()
        ]


def parse_process(raw: Any) -> Process:
    """Check the process data thoroughly: a typo here would silently let the wrong role act."""
    if not isinstance(raw, dict) or set(raw) != {"roles", "states"}:
        raise ValueError("process.yaml: expected exactly the keys roles and states")
    roles = {str(k): str(v) for k, v in raw["roles"].items()}
    states: dict[str, State] = {}
    for name, spec in raw["states"].items():
        where = f"process.yaml: states.{name}"
        unknown = set(spec) - {"label", "step", "from", "raci", "decided_by", "due_days", "final", "needs", "abandoned"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        raci = {str(role): str(letters) for role, letters in spec["raci"].items()}
        if set(raci) != set(roles) or not set(raci.values()) <= RACI_LETTERS:
            raise ValueError(f"{where}.raci: one of {sorted(RACI_LETTERS)} for each role {sorted(roles)}")
        decided = spec.get("decided_by")
        if decided is not None and (
            set(decided) != set(KINDS) or not all(set(v) <= set(roles) for v in decided.values())
        ):
            raise ValueError(f"{where}.decided_by: roles for each class {list(KINDS)}")
        states[name] = State(
            name=name,
            label=str(spec["label"]),
            step=str(spec["step"]),
            sources=tuple(spec["from"]),
            raci=raci,
            decided_by={k: tuple(v) for k, v in decided.items()} if decided is not None else None,
            due_days=spec.get("due_days"),
            final=bool(spec.get("final", False)),
            needs=spec.get("needs"),
            abandoned=bool(spec.get("abandoned", False)),
        )
    for state in states.values():
        for source in state.sources:
            if source not in states:
                raise ValueError(f"process.yaml: states.{state.name}.from: unknown state {source}")
    return Process(roles=roles, states=states)


@lru_cache(maxsize=4)
def load_process(path: Path = PROCESS_FILE) -> Process:
    with path.open("rb") as handle:
        return parse_process(yaml.load(handle, Loader=yaml.CSafeLoader))
