"""The environments a catalogue release moves through, in order, and what each demands first.

Kept deliberately small: an environment here is a name on the promotion path
with the change-request state it needs. A hub serves its own environment (its
`environment_tag`) and may host more (`opendip env create`, in
opendip.environments); each hosted one serves the catalogue this ledger
released to its name, and `place` says where on the path it stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from opendip.errors import DipError, Msg

PATH_FILE = Path(__file__).resolve().parent / "releases.yaml"


@dataclass(frozen=True)
class ReleaseEnvironment:
    name: str
    requires: str
    previous: str | None


class EnvironmentRegistry:
    def __init__(self, environments: list[ReleaseEnvironment]) -> None:
        self._by_name = {e.name: e for e in environments}

    @classmethod
    def from_data(cls, raw: Any, states: list[str]) -> EnvironmentRegistry:
        """The path from releases.yaml; every required state must be a state of the change process."""
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), list) or not raw["path"]:
            raise ValueError("releases.yaml: expected `path:`, a list of {environment, requires}")
        found: list[ReleaseEnvironment] = []
        for index, step in enumerate(raw["path"]):
            if not isinstance(step, dict) or set(step) != {"environment", "requires"}:
                raise ValueError(f"releases.yaml: path[{index}]: expected exactly environment and requires")
            if step["requires"] not in states:
                raise ValueError(f"releases.yaml: path[{index}].requires: unknown state {step['requires']}")
            previous = found[-1].name if found else None
            found.append(ReleaseEnvironment(str(step["environment"]), str(step["requires"]), previous))
        return cls(found)

    @classmethod
    def load(cls, states: list[str], path: Path = PATH_FILE) -> EnvironmentRegistry:
        with path.open("rb") as handle:
            return cls.from_data(yaml.load(handle, Loader=yaml.CSafeLoader), states)

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> ReleaseEnvironment:
        found = self._by_name.get(name.upper())
        if found is None:
            known = ", ".join(self._by_name)
            raise DipError(Msg.SCHEMA_FAILURE, f"$.environment: {name} is not on the release path; known: {known}")
        return found

    def place(self, name: str) -> str:
        """Where `name` stands on the release path, in words a tester reads."""
        found = self._by_name.get(name.upper())
        if found is None:
            return "not on the release path: serves the catalogue it was created or refreshed with"
        after = f" after {found.previous}" if found.previous else " first"
        return f"release path{after}; a version arrives once its change request is {found.requires}"
