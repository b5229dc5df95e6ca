"""Per-interface policy beside the catalogue: duplicate handling for ingest, expected responses and L4s for status.

It is data, like the catalogue: a YAML file (the built-in `policy.yaml`, or the
operator's copy named by OPENDIP_STATUS_POLICY_FILE), checked strictly at
start-up so a typo stops the hub with the path of the bad key instead of
silently switching a check off.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opendip.config import Settings

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")
INTERFACE_ID = re.compile(r"^(IF|REP)-[0-9]{3}[A-Z]?$")
RECIPIENT = re.compile(r"^([0-9]{10}|role:[A-Z]{3,5}|\*)$")


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file and the key."""


class DuplicateAction(StrEnum):
    FLAG = "flag"
    REJECT = "reject"
    OFF = "off"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _interface(value: str) -> str:
    if value != "*" and not INTERFACE_ID.match(value):
        raise ValueError(f"{value!r} is not an interface ID like IF-031 or REP-002A")
    return value


def _off_is_off(value: object) -> object:
    """YAML 1.1 reads a bare `off` as false: take it as the word the operator wrote."""
    return "off" if value is False else value


class DuplicatePolicy(_Strict):
    window_seconds: Annotated[float, Field(gt=0)] = 86400.0
    default: DuplicateAction = DuplicateAction.FLAG
    interfaces: dict[str, DuplicateAction] = Field(default_factory=dict)

    @field_validator("default", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return _off_is_off(value)

    @field_validator("interfaces", mode="before")
    @classmethod
    def _yaml_offs(cls, value: object) -> object:
        return {k: _off_is_off(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("interfaces")
    @classmethod
    def _known_shape(cls, value: dict[str, DuplicateAction]) -> dict[str, DuplicateAction]:
        for key in value:
            _interface(key)
        return value

    def action(self, interface_id: str) -> DuplicateAction:
        return self.interfaces.get(interface_id, self.default)


class ResponseRule(_Strict):
    request: str
    response: str
    within_seconds: Annotated[float, Field(gt=0)]

    @field_validator("request", "response")
    @classmethod
    def _interfaces(cls, value: str) -> str:
        return _interface(value)


class StatusRule(_Strict):
    recipient: str
    interfaces: tuple[str, ...] = ("*",)
    within_seconds: Annotated[float, Field(gt=0)]

    @field_validator("recipient")
    @classmethod
    def _recipient(cls, value: str) -> str:
        if not RECIPIENT.match(value):
            raise ValueError(f"{value!r} must be a 10-digit DIP ID, 'role:<ROLE>' or '*'")
        return value

    @field_validator("interfaces")
    @classmethod
    def _interfaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_interface(v) for v in value)

    def applies_to(self, recipient: str, role: str | None, interface_id: str) -> bool:
        if "*" not in self.interfaces and interface_id not in self.interfaces:
            return False
        if self.recipient == "*":
            return True
        if self.recipient.startswith("role:"):
            return role == self.recipient[5:]
        return self.recipient == recipient


class ExpectationPolicy(_Strict):
    responses: tuple[ResponseRule, ...] = ()
    status_messages: tuple[StatusRule, ...] = ()
    lookback_seconds: Annotated[float, Field(gt=0)] = 7 * 86400.0


class StatusPolicy(_Strict):
    duplicates: DuplicatePolicy = DuplicatePolicy()
    expectations: ExpectationPolicy = ExpectationPolicy()


def load_policy(path: Path | None = None) -> StatusPolicy:
    """Read and check a policy file (the built-in one when `path` is None)."""
    source = path or DEFAULT_POLICY
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{source}: cannot read the status policy: {exc}") from exc
    try:
        return StatusPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{source}: {problems}") from exc


@functools.lru_cache(maxsize=8)
def _cached(path: Path | None) -> StatusPolicy:
    return load_policy(path)


def policy_for(settings: Settings) -> StatusPolicy:
    """The policy the settings name, read once per process."""
    return _cached(settings.status_policy_file)
