"""Valid messages for any catalogued interface, as a simulated participant sends them.

The catalogue's PayloadBuilder gives a valid payload for every (interface,
version, event) from the catalogue's own records, so the simulator speaks all
sixty interfaces and follows the catalogue at each release. On top of it this
lays what makes a message a participant's own: its S1 (reference, time,
environment, correlation), the M0 of an MPAN in the market state, the A0 it
addresses, an R0 answer, and the business fields the market state decides
(DIP IDs, meter IDs, energisation status...), named in `overrides`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opendip.catalogue.builder import PayloadBuilder
from opendip.catalogue.catalogue import Catalogue
from opendip.simulator.examples import common_block


class PayloadFactory:
    def __init__(self, catalogue: Catalogue, environment: str = "DEV") -> None:
        self.catalogue = catalogue
        self.environment = environment
        self._builder = PayloadBuilder(catalogue)

    def version(self, interface_id: str) -> str:
        """The newest catalogued schemaVersion (reports carry two)."""
        return self.catalogue.versions(interface_id)[-1]

    def build(
        self,
        interface_id: str,
        event: str,
        *,
        sender: str,
        role: str,
        recipients: list[str],
        mpan: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        response: tuple[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """One payload. `mpan` is the M0 block; `response` the R0 (code, messages) of a response flow.

        `overrides` replace the value of every field of that name (anywhere in the
        payload, a whole block such as `M1` included).
        """
        interface = self.catalogue.interfaces[interface_id]
        version = self.version(interface_id)
        definition = self.catalogue.event(interface_id, version, f"[{event}]")
        if definition is None:
            raise KeyError(f"{interface_id} v{version} has no event [{event}]")
        payload = self._builder.payload(interface, version, definition, full=False, role=role)
        common = payload["CommonBlock"]
        mine = common_block(
            interface_id,
            version,
            event,
            sender=sender,
            role=role,
            recipients=recipients,
            environment=self.environment,
            correlation_id=correlation_id,
        )
        common.update(S0=mine["S0"], S1=mine["S1"], A0=mine["A0"])
        if self.catalogue.common.mpan_block in common and mpan is not None:
            common[self.catalogue.common.mpan_block] = dict(mpan)
        if response is not None and ("R0" in common or _allows_r0(interface_id, version, event, self.catalogue)):
            code, messages = response
            common["R0"] = {"responseCode": code, "responseMessages": messages}
        if overrides:
            _lay_over(payload, dict(overrides))
        return payload


def _allows_r0(interface_id: str, version: str, event: str, catalogue: Catalogue) -> bool:
    schema = catalogue.schema_for(interface_id, version, f"[{event}]")
    return "R0" in schema["properties"]["CommonBlock"]["properties"]


def _lay_over(node: Any, overrides: dict[str, Any]) -> None:
    """Replace, in place, the value of every key named in `overrides`."""
    if isinstance(node, dict):
        for key in list(node):
            if key in overrides:
                node[key] = overrides[key]
            else:
                _lay_over(node[key], overrides)
    elif isinstance(node, list):
        for value in node:
            _lay_over(value, overrides)
