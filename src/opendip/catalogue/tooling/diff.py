"""What changed between two catalogues, and which changes break messages senders already send.

A change is breaking when a message valid under the old catalogue may be
refused under the new one: something removed (an interface, version, event,
block, field), something newly required, a narrower constraint (shorter
length, fewer enum values, a new or different pattern, no longer nullable), or
a different type. Additions that are optional, wider limits and new enum values
are not breaking. Fields are compared by their effective constraints, so
moving a field from one data item to an identical one is no change at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.model import Block, BlockUse, Constraints, EventDefinition, FieldSpec, Interface


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    subject: str  # "interface IF-043", "block B023", "field B023.energyDirection", "data item DI-015"
    detail: str
    breaking: bool

    def line(self) -> str:
        flag = "BREAKING " if self.breaking else ""
        return f"{flag}{self.kind} {self.subject}" + (f": {self.detail}" if self.detail else "")


def _narrower(old: float | None, new: float | None, lower: bool) -> bool:
    """A limit tightened: a new limit where there was none, or a stricter value."""
    if new is None:
        return False
    if old is None:
        return True
    return new > old if lower else new < old


def constraint_changes(
    subject: str, old: Constraints, new: Constraints, old_null: bool, new_null: bool
) -> list[Change]:
    found: list[Change] = []

    def note(detail: str, breaking: bool) -> None:
        found.append(Change("changed", subject, detail, breaking))

    if old.json != new.json:
        note(f"type {old.json} -> {new.json}", True)
    if old_null != new_null:
        note(f"nullable {old_null} -> {new_null}", old_null)
    for name, attr, lower in (
        ("minLength", "min_length", True),
        ("maxLength", "max_length", False),
        ("minimum", "minimum", True),
        ("maximum", "maximum", False),
    ):
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            note(f"{name} {before} -> {after}", _narrower(before, after, lower))
    if old.pattern != new.pattern:
        note(f"pattern {old.pattern!r} -> {new.pattern!r}", new.pattern is not None)
    if old.multiple_of != new.multiple_of:
        note(f"multipleOf {old.multiple_of} -> {new.multiple_of}", new.multiple_of is not None)
    if old.enum != new.enum:
        if new.enum is None:
            note("enum removed (any value allowed)", False)
        elif old.enum is None:
            note(f"enum added {list(new.enum)}", True)
        else:
            gone = [v for v in old.enum if v not in new.enum]
            came = [v for v in new.enum if v not in old.enum]
            note(f"enum values removed {gone}" if gone else f"enum values added {came}", bool(gone))
            if gone and came:
                note(f"enum values added {came}", False)
    return found


class CatalogueDiff:
    """Compares `old` with `new`; `changes` lists everything, `breaking` the subset that breaks senders."""

    def __init__(self, old: Catalogue, new: Catalogue) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self._interfaces()
        self._definitions()
        self._blocks()

    @property
    def breaking(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    def _add(self, kind: str, subject: str, detail: str, breaking: bool) -> None:
        self.changes.append(Change(kind, subject, detail, breaking))

    def _keyed(self, label: str, old: dict[str, object], new: dict[str, object]) -> list[str]:
        """Report added and removed keys; return the keys present in both."""
        for key in sorted(set(old) - set(new)):
            self._add("removed", f"{label} {key}", "", True)
        for key in sorted(set(new) - set(old)):
            self._add("added", f"{label} {key}", "", False)
        return [key for key in old if key in new]

    def _interfaces(self) -> None:
        both = self._keyed("interface", dict(self.old.interfaces), dict(self.new.interfaces))
        for interface_id in both:
            old, new = self.old.interfaces[interface_id], self.new.interfaces[interface_id]
            subject = f"interface {interface_id}"
            if old.mpan_based != new.mpan_based:
                self._add("changed", subject, f"MPAN-based {old.mpan_based} -> {new.mpan_based}", new.mpan_based)
            lost = sorted(old.sender_roles - new.sender_roles)
            if lost:
                self._add("changed", subject, f"sender roles removed {lost}", True)
            gained = sorted(new.sender_roles - old.sender_roles)
            if gained:
                self._add("changed", subject, f"sender roles added {gained}", False)
            versions = self._keyed(f"version of {interface_id}", dict(old.versions), dict(new.versions))
            for version in versions:
                self._version(old, new, version)

    def _version(self, old: Interface, new: Interface, version: str) -> None:
        before, after = old.versions[version], new.versions[version]
        label = f"{old.id} v{version}"
        if after.retired and not before.retired:
            self._add("changed", f"version {label}", "retired", True)
        if before.schedule != after.schedule:
            self._add("changed", f"version {label}", "environment dates changed", False)
        for code in self._keyed(f"event of {label}", dict(before.events), dict(after.events)):
            self._event(f"{label} [{code}]", before.events[code], after.events[code], old, new)

    def _event(self, label: str, old: EventDefinition, new: EventDefinition, was: Interface, now: Interface) -> None:
        subject = f"event {label}"
        if old.custom_block_allowed != new.custom_block_allowed:
            self._add(
                "changed",
                subject,
                f"CustomBlock allowed {old.custom_block_allowed} -> {new.custom_block_allowed}",
                True,
            )
        if old.custom_block_open != new.custom_block_open:
            self._add(
                "changed",
                subject,
                f"CustomBlock open {old.custom_block_open} -> {new.custom_block_open}",
                old.custom_block_open,
            )
        self._uses(subject, dict(old.blocks), dict(new.blocks))
        old_common = {**was.common_blocks, **old.common_blocks}
        new_common = {**now.common_blocks, **new.common_blocks}
        for key in sorted(set(old_common) | set(new_common)):
            before, after = old_common.get(key), new_common.get(key)
            if before == after:
                continue
            if after is None:
                self._add("removed", f"common block {key} of {label}", "", True)
            elif before is None:
                self._add(
                    "added",
                    f"common block {key} of {label}",
                    "required" if after.required else "optional",
                    after.required,
                )
            else:
                breaking = after.block != before.block or (after.required and not before.required)
                self._add("changed", f"common block {key} of {label}", f"{before} -> {after}", breaking)

    def _uses(self, subject: str, old: dict[str, BlockUse], new: dict[str, BlockUse]) -> None:
        for key in sorted(set(old) - set(new)):
            self._add("removed", f"block {key} from {subject}", "", True)
        for key in sorted(set(new) - set(old)):
            required = new[key].required
            self._add("added", f"block {key} to {subject}", "required" if required else "optional", required)
        for key in (k for k in old if k in new and old[k] != new[k]):
            before, after = old[key], new[key]
            details: list[tuple[str, bool]] = []
            if before.block != after.block:
                details.append((f"block {before.block} -> {after.block}", True))
            if before.required != after.required:
                details.append((f"required {before.required} -> {after.required}", after.required))
            if before.array != after.array:
                details.append((f"list {before.array} -> {after.array}", True))
            if (before.min_items, before.max_items) != (after.min_items, after.max_items):
                tighter = _narrower(before.min_items, after.min_items, True) or _narrower(
                    before.max_items, after.max_items, False
                )
                details.append(
                    (f"items {before.min_items}..{before.max_items} -> {after.min_items}..{after.max_items}", tighter)
                )
            for detail, breaking in details:
                self._add("changed", f"block {key} in {subject}", detail, breaking)

    def _definitions(self) -> None:
        for label, old, new in (
            ("data type", self.old.data_types, self.new.data_types),
            ("data item", self.old.data_items, self.new.data_items),
        ):
            for key in sorted(set(old) - set(new)):
                self._add("removed", f"{label} {key}", "", False)  # breaks nothing by itself: its fields say
            for key in sorted(set(new) - set(old)):
                self._add("added", f"{label} {key}", "", False)
            for key in (k for k in old if k in new):
                before, after = old[key].constraints, new[key].constraints
                for change in constraint_changes(
                    f"{label} {key}", before, after, bool(before.nullable), bool(after.nullable)
                ):
                    self.changes.append(change)

    def _effective(self, catalogue: Catalogue, spec: FieldSpec) -> tuple[Constraints, bool] | None:
        if spec.block is not None:
            return None
        if spec.inline is not None:
            constraints = spec.inline
        else:
            ref = spec.item or spec.type or ""
            found = catalogue.data_items.get(ref) or catalogue.data_types.get(ref)
            if found is None:
                return None
            constraints = found.constraints
        nullable = spec.nullable if spec.nullable is not None else bool(constraints.nullable)
        return constraints, nullable

    def _blocks(self) -> None:
        old_blocks: dict[str, Block] = {**self.old.common.blocks, **self.old.blocks}
        new_blocks: dict[str, Block] = {**self.new.common.blocks, **self.new.blocks}
        for block_id in self._keyed("block", dict(old_blocks), dict(new_blocks)):
            before, after = old_blocks[block_id], new_blocks[block_id]
            for key in sorted(set(before.fields) - set(after.fields)):
                self._add("removed", f"field {block_id}.{key}", "", True)
            for key in sorted(set(after.fields) - set(before.fields)):
                required = after.fields[key].required
                self._add("added", f"field {block_id}.{key}", "required" if required else "optional", required)
            for key in (k for k in before.fields if k in after.fields):
                self._field(f"field {block_id}.{key}", before.fields[key], after.fields[key])
            if before.closed != after.closed:
                self._add("changed", f"block {block_id}", f"closed {before.closed} -> {after.closed}", after.closed)

    def _field(self, subject: str, old: FieldSpec, new: FieldSpec) -> None:
        if old.required != new.required:
            self._add("changed", subject, f"required {old.required} -> {new.required}", new.required)
        if old.array != new.array or old.block != new.block:
            self._add("changed", subject, f"{old.ref}{'[]' * old.array} -> {new.ref}{'[]' * new.array}", True)
            return
        before, after = self._effective(self.old, old), self._effective(self.new, new)
        if before is not None and after is not None:
            self.changes.extend(constraint_changes(subject, before[0], after[0], before[1], after[1]))
