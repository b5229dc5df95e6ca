"""The catalogue's vocabulary: immutable records loaded once from the YAML data files.

Everything here is frozen so a loaded catalogue can be shared by every request and
worker without locks; a catalogue change means loading a new one, never mutating
this one. The shapes mirror the DIP's own layering (data type -> data item ->
block -> event -> interface) so an importer can map the published document onto
them one to one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from opendip.errors import Msg

JsonType = Literal["string", "integer", "number", "boolean"]
Presence = Literal["required", "optional"]
CustomBlockMode = Literal["closed", "open", "absent"]
RoutingKind = Literal["secondary", "always"]
TargetKind = Literal["mpan_distributor", "role", "dip_id"]


@dataclass(frozen=True)
class Role:
    """A market role (the senderRoleID vocabulary), kept as data so new roles need no code."""

    id: str
    name: str
    notes: str = ""


@dataclass(frozen=True)
class Constraints:
    """The JSON Schema keywords a data type or data item may carry.

    One record for both levels so a data item can override exactly the keywords
    it narrows (an enum, a shorter length) and inherit the rest from its type.
    """

    json: JsonType | None = None
    nullable: bool | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: float | None = None
    format: str | None = None

    def over(self, base: Constraints) -> Constraints:
        """These constraints laid over `base`: every keyword set here wins."""
        merged = {
            name: getattr(self, name) if getattr(self, name) is not None else getattr(base, name)
            for name in self.__dataclass_fields__
        }
        return Constraints(**merged)


@dataclass(frozen=True)
class DataType:
    """A DT-nnn entry: the physical format shared by many data items (DT-003 DateTime)."""

    id: str
    name: str
    constraints: Constraints
    notes: str = ""


@dataclass(frozen=True)
class DataItem:
    """A DI-nnn entry: a business field with its own name, enum and nullability.

    `constraints` is already merged over the data type it names, so the compiler
    never has to walk the chain again.
    """

    id: str
    name: str
    type_id: str | None
    constraints: Constraints
    notes: str = ""


@dataclass(frozen=True)
class FieldSpec:
    """One key of a block: what it refers to, whether it must be present, and if it repeats.

    Exactly one of `item`, `type`, `block` or `inline` is set: the document
    references data items, bare data types and nested blocks from block fields
    alike, and types a few fields in place (the compressed report of P03).
    """

    key: str
    item: str | None = None
    type: str | None = None
    block: str | None = None
    inline: Constraints | None = None
    title: str = ""
    required: bool = True
    nullable: bool | None = None
    array: bool = False
    min_items: int | None = None
    max_items: int | None = None

    @property
    def ref(self) -> str:
        return self.item or self.type or self.block or ("inline" if self.inline else "")


@dataclass(frozen=True)
class Block:
    """A Bnnn (or common S1/M0/A0/D0/R0) block: a closed JSON object of named fields."""

    id: str
    name: str
    fields: Mapping[str, FieldSpec]
    closed: bool = True
    notes: str = ""


@dataclass(frozen=True)
class BlockUse:
    """How an event's CustomBlock carries a block: under which key, required or not, once or as a list.

    The key differs from the block id for lists (`B035List` holds B035 items).
    """

    key: str
    block: str
    required: bool
    array: bool = False
    min_items: int | None = None
    max_items: int | None = None


@dataclass(frozen=True)
class CommonBlockUse:
    """A block carried in CommonBlock beside S0, e.g. R0 on response interfaces or M0 when MPAN-based."""

    key: str
    block: str
    required: bool


@dataclass(frozen=True)
class EventDefinition:
    """One event code of one interface version and the CustomBlock it carries.

    `custom_block_open` is true where the published document does not give the
    blocks: the CustomBlock is then accepted as any object rather than invented.
    `custom_block_allowed` is false for events that carry no CustomBlock at all.
    `common_blocks` are CommonBlock keys this event adds (IF-016 replays carry the
    original sender as S2 and the original response as R1). `report` is set on
    ECS reports, whose CustomBlock carries the report compressed.
    """

    code: str
    blocks: Mapping[str, BlockUse]
    custom_block_open: bool = False
    custom_block_allowed: bool = True
    notes: str = ""
    common_blocks: Mapping[str, CommonBlockUse] = field(default_factory=dict)
    report: ReportSpec | None = None

    @property
    def bracketed(self) -> str:
        """The eventCode as S0 carries it: `[ConnectionTypeChange]`."""
        return f"[{self.code}]"


@dataclass(frozen=True)
class ReportSpec:
    """Where an ECS report carries its content and which block the content follows.

    The content travels as base64 of zlib-compressed JSON at `carrier` (key path
    under CustomBlock, e.g. P03.compressedReport); inflated, it must follow `block`.
    """

    block: str
    carrier: tuple[str, ...]


@dataclass(frozen=True)
class Window:
    """When one environment accepts a schemaVersion: from `start` (inclusive) to `end` (exclusive).

    Epoch seconds, like every time in OpenDIP; infinities mean "always has" and
    "never retires", so the hot path compares two floats and never parses a date.
    """

    start: float = -math.inf
    end: float = math.inf

    @property
    def bounded(self) -> bool:
        return self.start != -math.inf or self.end != math.inf


OPEN_EVENT = "*"


@dataclass(frozen=True)
class InterfaceVersion:
    """One schemaVersion of an interface; versions may differ in events and blocks.

    `schedule` maps an environment tag to the window in which it accepts this
    version; None means the catalogue's default schedule applies. `open_events`
    marks a version whose event codes the published document does not give: any
    well-formed event code is accepted with an open CustomBlock (event OPEN_EVENT).
    """

    version: str
    events: Mapping[str, EventDefinition]
    retired: bool = False
    schedule: Mapping[str, Window] | None = None
    open_events: bool = False


@dataclass(frozen=True)
class RoutingRule:
    """A recipient the DIP adds by itself, beyond the sender's primary recipients.

    `secondary` and `always` mirror A0.secondaryRecipients and A0.always.
    `events` None means every event code of the interface. Targets:
    `mpan_distributor` is M0.distributorDIPID; `role` is every registered
    participant of `target_value`; `dip_id` is the one participant `target_value`.
    """

    kind: RoutingKind
    events: frozenset[str] | None
    target_kind: TargetKind
    target_value: str | None
    notes: str = ""

    def applies_to(self, event_code: str) -> bool:
        return self.events is None or event_code in self.events


@dataclass(frozen=True)
class Interface:
    """A DIP channel (IF-043, REP-002...) with its versions, roles and routing."""

    id: str
    name: str
    mpan_based: bool
    sender_roles: frozenset[str]
    recipient_roles: frozenset[str]
    versions: Mapping[str, InterfaceVersion]
    routing: tuple[RoutingRule, ...]
    notes: str = ""
    common_blocks: Mapping[str, CommonBlockUse] = field(default_factory=dict)

    def event_codes(self) -> tuple[str, ...]:
        """Every event code offered by any version, in catalogue order, without brackets."""
        seen: dict[str, None] = {}
        for version in self.versions.values():
            for code in version.events:
                if code != OPEN_EVENT:
                    seen.setdefault(code, None)
        return tuple(seen)


@dataclass(frozen=True)
class Environment:
    """An environment tag (PRD, SITB, SIT, UIT, DEV) and its default acceptance window."""

    id: str
    name: str
    default: Window
    notes: str = ""


@dataclass(frozen=True)
class CommonSpec:
    """How every CommonBlock is put together: the shared blocks and which are always there.

    `defaults` are the uses every interface gets (S1 required, A0 and D0 optional);
    `mpan_block` is added as required to MPAN-based interfaces and refused on others.
    """

    blocks: Mapping[str, Block]
    defaults: Mapping[str, CommonBlockUse]
    mpan_block: str


@dataclass(frozen=True)
class ValidationIssue:
    """One reason a message was refused, precise enough for a sender to fix it unaided.

    `path` is a JSON path from the request body (`$[0].payload.CommonBlock.S1.senderDIPID`);
    for a missing or unexpected key it names that key itself.
    """

    path: str
    rule: str
    text: str
    msg: Msg
