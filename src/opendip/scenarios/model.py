"""Reading scenario files: YAML, checked against the published JSON Schema before anything runs.

A scenario that does not match the schema is refused with the JSON path and
the rule it broke, so a tester fixes the file rather than reading a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import yaml

STEP_KINDS = ("send", "switch_supplier", "expect_received", "expect_l3", "expect_l4", "behaviour", "wait")


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the text names the file, the JSON path and the rule."""


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    process: str
    description: str
    steps: tuple[Step, ...]
    variables: dict[str, str] = field(default_factory=dict)
    fails_at: str | None = None
    reason_contains: str | None = None

    @property
    def negative(self) -> bool:
        return self.fails_at is not None


def schema() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(resources.files(__package__).joinpath("schema.json").read_bytes())
    return document


_VALIDATOR = jsonschema_rs.validator_for(schema())


def load(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    errors = list(_VALIDATOR.iter_errors(data))
    if errors:
        first = errors[0]
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.instance_path)
        raise ScenarioError(f"{path}: {where}: {first.message}")
    steps = []
    for raw in data["steps"]:
        kind = next(k for k in raw if k != "id")
        if kind not in STEP_KINDS:
            raise ScenarioError(f"{path}: step {raw['id']}: unknown kind {kind}; known: {', '.join(STEP_KINDS)}")
        steps.append(Step(raw["id"], kind, raw[kind]))
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"{path}: $.steps: step ids must be unique")
    expect = data.get("expect") or {}
    if expect and expect["fails_at"] not in ids:
        raise ScenarioError(f"{path}: $.expect.fails_at: no step {expect['fails_at']}")
    return Scenario(
        path,
        data["name"],
        data["process"],
        data.get("description", ""),
        tuple(steps),
        dict(data.get("vars") or {}),
        expect.get("fails_at"),
        expect.get("reason_contains"),
    )
