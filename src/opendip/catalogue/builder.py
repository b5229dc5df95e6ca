"""Valid payloads built from the catalogue's own records, for any channel and event (not the stored examples).

`opendip example` prints them (addressed to registered participants) and the
catalogue tests build one for every event. The builder reads the catalogue's
records, not its compiled schemas, so a payload it builds that fails
validation points at a disagreement between the model and the compiler.
Sample strings for patterned types come from the published facts; a new
patterned type without a sample fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.model import OPEN_EVENT, Constraints, EventDefinition, FieldSpec, Interface
from opendip.catalogue.reports import compress

# Valid values for the patterned types and items, from the published facts.
SAMPLES: dict[str, Any] = {
    "DT-002": "2000056535971",
    "DT-002N": "2000056535980",
    "DT-003": "2026-11-24T00:00:00+00:00",
    "DT-003N": "2026-11-24T00:30:00+01:00",
    "DT-006": "1009012345",
    "DT-006N": "2300000900",
    "DT-009": "REGS",
    "DT-016": "123.456",
    "DT-016N": "-0.500",
    "DT-027": "ABCD",
    "DT-027N": "WXYZ",
    "DT-995": "S-IF-043-1009012345-REGS-20261125-placeholder",
    "DI-122": "02",
    "DI-123": "0393",
    "DT-021": "2026-11-24",
    "DT-021N": "2026-11-25",
    "DT-022": "-12.345678",
    "DT-022N": "1.000000",
    "DT-023N": "2.500000",
    "DT-024": "10.000001",
    "DT-025": "-100.25",
    "DT-026": "1.000000001",
    "DT-030": "5.125",
    "DT-031": "12.34",
    "DT-032": "99.99",
    "DT-033": "3.14159",
    "DT-035": "123456",
    "P03.compressedReport": "eJyrrgUAAXUA+Q==",
}
# The event code used for channels whose event codes are not published (events: open).
OPEN_EVENT_SAMPLE = "CorrelatedActivity"
SENDER_DIP_ID = "1009012345"


class PayloadBuilder:
    """Builds a valid payload for any catalogued event, minimal or with every optional part."""

    def __init__(self, catalogue: Catalogue, sender_dip_id: str = SENDER_DIP_ID) -> None:
        self.catalogue = catalogue
        self.sender_dip_id = sender_dip_id
        self._serial = 0

    def scalar(self, constraints: Constraints, ref: str) -> Any:
        if constraints.enum:
            return next(value for value in constraints.enum if value is not None)
        if constraints.json == "boolean":
            return True
        if constraints.json in ("integer", "number"):
            return int(constraints.minimum) if constraints.minimum is not None else 0
        if ref in SAMPLES:
            return SAMPLES[ref]
        if constraints.pattern is not None:
            raise AssertionError(f"add a valid sample for {ref} (pattern {constraints.pattern}) to SAMPLES")
        length = max(constraints.min_length or 1, 1)
        return "X" * min(length, constraints.max_length or length)

    def field(self, spec: FieldSpec, full: bool, owner: str = "") -> Any:
        if spec.block is not None:
            value = self.block(spec.block, full)
        elif spec.inline is not None:
            value = self.scalar(spec.inline, f"{owner}.{spec.key}")
        elif spec.item is not None:
            item = self.catalogue.data_items[spec.item]
            ref = spec.item if spec.item in SAMPLES else (item.type_id or spec.item)
            value = self.scalar(item.constraints, ref)
        else:
            assert spec.type is not None
            value = self.scalar(self.catalogue.data_types[spec.type].constraints, spec.type)
        return [value] if spec.array else value

    def block(self, block_id: str, full: bool) -> dict[str, Any]:
        block = self.catalogue.blocks.get(block_id) or self.catalogue.common.blocks[block_id]
        return {key: self.field(spec, full, block_id) for key, spec in block.fields.items() if spec.required or full}

    def payload(
        self, interface: Interface, version: str, event: EventDefinition, *, full: bool, role: str | None = None
    ) -> dict[str, Any]:
        self._serial += 1
        role = role or sorted(interface.sender_roles)[0]
        sender = self.sender_dip_id
        s1 = self.block("S1", full)
        s1.update(
            senderDIPID=sender,
            senderRoleID=role,
            senderUniqueReference=f"S-{interface.id}-{sender}-{role}-20261125-gen{self._serial}",
        )
        code = OPEN_EVENT_SAMPLE if event.code == OPEN_EVENT else event.code
        common: dict[str, Any] = {
            "S0": {"interfaceID": interface.id, "schemaVersion": version, "eventCode": f"[{code}]"},
            "S1": s1,
        }
        if full:
            common["A0"] = self.block("A0", full)
            common["D0"] = self.block("D0", full)
        if interface.mpan_based:
            common[self.catalogue.common.mpan_block] = self.block(self.catalogue.common.mpan_block, full)
        for key, common_use in {**interface.common_blocks, **event.common_blocks}.items():
            if common_use.required or full:
                common[key] = self.block(common_use.block, full)
        payload: dict[str, Any] = {"CommonBlock": common}
        if event.custom_block_allowed:
            custom: dict[str, Any] = {}
            for key, use in ({} if event.custom_block_open else event.blocks).items():
                if use.required or full:
                    value = self.block(use.block, full)
                    custom[key] = [value] if use.array else value
            if event.report is not None:
                node = custom
                for key in event.report.carrier[:-1]:
                    node = node[key]
                node[event.report.carrier[-1]] = compress(self.block(event.report.block, full))
            payload["CustomBlock"] = custom
        return payload

    def every_event(self) -> Iterator[tuple[Interface, str, EventDefinition]]:
        for interface in self.catalogue.interfaces.values():
            for version, spec in interface.versions.items():
                for event in spec.events.values():
                    yield interface, version, event
