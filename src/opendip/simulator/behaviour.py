"""How a simulated participant misbehaves: the faults participants must learn to handle.

Each participant has a Behaviour: how fast it answers (a latency distribution,
slower at the evening peak), how often it rejects and with which RCP codes,
whether it answers batches with 207 partial answers, how its L4 statuses come
(on time, late, missing or wrong), when it is down, and how often it sends a
message twice. Behaviours come from a YAML or JSON file and can be replaced
while the market runs (the file is re-read when it changes, or through the
control API); nothing else in the simulator holds on to an old one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from opendip.simulator.codes import RCP


class BehaviourError(ValueError):
    """A behaviour file or control-API body that cannot be used; the text names the field."""


@dataclass(frozen=True)
class Latency:
    """Answer time in milliseconds: `fixed`, `uniform` (low..high) or `lognormal` (median, p90)."""

    kind: str = "lognormal"
    median_ms: float = 15.0
    p90_ms: float = 40.0
    low_ms: float = 0.0
    high_ms: float = 0.0

    def draw(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.median_ms
        if self.kind == "uniform":
            return rng.uniform(self.low_ms, self.high_ms)
        sigma = math.log(max(self.p90_ms, self.median_ms) / max(self.median_ms, 1e-6)) / 1.2816
        return rng.lognormvariate(math.log(max(self.median_ms, 1e-6)), sigma)


@dataclass(frozen=True)
class L4Mix:
    """Shares of L4 statuses sent on time, late, never, or saying the wrong thing (they sum to <= 1)."""

    on_time: float = 1.0
    late: float = 0.0
    missing: float = 0.0
    wrong: float = 0.0
    late_seconds: float = 5.0

    def draw(self, rng: random.Random) -> str:
        roll = rng.random()
        for name, share in (("late", self.late), ("missing", self.missing), ("wrong", self.wrong)):
            if roll < share:
                return name
            roll -= share
        return "on_time"


@dataclass(frozen=True)
class Outage:
    """Down between two moments: seconds since the market started, or ISO date-times."""

    start: float | str
    end: float | str
    status: int = 503

    def covers(self, elapsed: float, now: datetime) -> bool:
        return _moment(self.start, elapsed, now) >= 0 > _moment(self.end, elapsed, now)


def _moment(value: float | str, elapsed: float, now: datetime) -> float:
    """How far `value` lies behind now (positive: in the past)."""
    if isinstance(value, int | float):
        return elapsed - float(value)
    return (now - datetime.fromisoformat(value)).total_seconds()


@dataclass(frozen=True)
class Behaviour:
    latency: Latency = field(default_factory=Latency)
    reject_rate: float = 0.0
    reject_codes: tuple[str, ...] = ("RCP1022",)
    partial_rate: float = 0.0
    l4: L4Mix = field(default_factory=L4Mix)
    outages: tuple[Outage, ...] = ()
    peak_slowdown: float = 1.0
    duplicate_rate: float = 0.0

    def answer_delay(self, rng: random.Random, at_peak: bool) -> float:
        """Seconds to wait before answering a delivery."""
        factor = self.peak_slowdown if at_peak else 1.0
        return self.latency.draw(rng) * factor / 1000.0

    def down(self, elapsed: float, now: datetime) -> Outage | None:
        return next((o for o in self.outages if o.covers(elapsed, now)), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse(data: Mapping[str, Any], base: Behaviour | None = None, path: str = "$") -> Behaviour:
    """A Behaviour from a mapping; missing keys keep `base`'s values. BehaviourError names the bad key."""
    if not isinstance(data, Mapping):
        raise BehaviourError(f"{path}: must be an object")
    current = base or Behaviour()
    known = {f.name for f in fields(Behaviour)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise BehaviourError(f"{path}.{unknown[0]}: unknown behaviour; known: {', '.join(sorted(known))}")
    changes: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}.{key}"
        if key == "latency":
            changes[key] = _sub(Latency, value, current.latency, where)
            if changes[key].kind not in ("fixed", "uniform", "lognormal"):
                raise BehaviourError(f"{where}.kind: must be fixed, uniform or lognormal")
        elif key == "l4":
            mix = _sub(L4Mix, value, current.l4, where)
            if mix.late + mix.missing + mix.wrong > 1:
                raise BehaviourError(f"{where}: late + missing + wrong must not exceed 1")
            changes[key] = mix
        elif key == "outages":
            if not isinstance(value, list):
                raise BehaviourError(f"{where}: must be a list of {{start, end, status}}")
            changes[key] = tuple(_sub(Outage, o, None, f"{where}[{i}]") for i, o in enumerate(value))
        elif key == "reject_codes":
            codes = tuple(value) if isinstance(value, list) else ()
            bad = [c for c in codes if c not in RCP or c == "RCP0000"]
            if not codes or bad:
                raise BehaviourError(f"{where}: a list of published RCP rejection codes (not {bad or value})")
            changes[key] = codes
        else:
            changes[key] = _number(value, where, key)
    return replace(current, **changes)


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BehaviourError(f"{where}: must be a number")
    if key.endswith("_rate") and not 0 <= value <= 1:
        raise BehaviourError(f"{where}: a rate is between 0 and 1")
    if key == "peak_slowdown" and value < 1:
        raise BehaviourError(f"{where}: a slow-down factor is at least 1")
    return float(value)


def _sub(kind: type[Any], value: Any, base: Any, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise BehaviourError(f"{where}: must be an object")
    allowed = {f.name for f in fields(kind)}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise BehaviourError(f"{where}.{unknown[0]}: unknown key; known: {', '.join(sorted(allowed))}")
    try:
        return replace(base, **value) if base is not None else kind(**value)
    except TypeError as exc:
        raise BehaviourError(f"{where}: {exc}") from None


class BehaviourBook:
    """The behaviour of every simulated participant: a default and per-DIP-ID overrides.

    `load` reads a file of the shape `{default: {...}, participants: {DIPID: {...}}}`;
    `reload_if_changed` re-reads it when its modification time moves, so an
    operator can edit the file while the market runs.
    """

    def __init__(self, default: Behaviour | None = None) -> None:
        self.default = default or Behaviour()
        self.overrides: dict[str, Behaviour] = {}
        self.path: Path | None = None
        self._mtime: float | None = None

    def of(self, dip_id: str) -> Behaviour:
        return self.overrides.get(dip_id, self.default)

    def set(self, dip_id: str, changes: Mapping[str, Any]) -> Behaviour:
        """Change one participant's behaviour (keys not given keep their current values)."""
        updated = parse(changes, self.of(dip_id), f"$.{dip_id}")
        self.overrides[dip_id] = updated
        return updated

    def reset(self, dip_id: str) -> None:
        self.overrides.pop(dip_id, None)

    def load(self, path: Path) -> None:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BehaviourError(f"{path}: {exc}") from None
        if not isinstance(data, Mapping):
            raise BehaviourError(f"{path}: must hold an object with `default` and `participants`")
        unknown = sorted(set(data) - {"default", "participants"})
        if unknown:
            raise BehaviourError(f"{path}: $.{unknown[0]}: unknown key; use default and participants")
        default = parse(data.get("default") or {}, Behaviour(), "$.default")
        participants = data.get("participants") or {}
        if not isinstance(participants, Mapping):
            raise BehaviourError(f"{path}: $.participants must map DIP IDs to behaviours")
        overrides = {str(k): parse(v, default, f"$.participants.{k}") for k, v in participants.items()}
        self.default, self.overrides, self.path = default, overrides, path
        self._mtime = path.stat().st_mtime

    def reload_if_changed(self) -> bool:
        """Re-read the file if it changed; a broken edit keeps the old behaviours (and raises)."""
        if self.path is None or not self.path.exists():
            return False
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        self.load(self.path)
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "default": self.default.to_dict(),
            "participants": {k: v.to_dict() for k, v in sorted(self.overrides.items())},
        }
