"""/metrics per environment: what each hosted environment's store holds and the catalogue it serves."""

from __future__ import annotations

from prometheus_client import Gauge

PARTICIPANTS = Gauge("opendip_environment_participants", "Participants registered in the environment", ["environment"])
MESSAGES = Gauge("opendip_environment_messages", "Messages stored in the environment", ["environment"])
UNDELIVERED = Gauge("opendip_environment_undelivered", "Deliveries pending in the environment", ["environment"])
CATALOGUE = Gauge(
    "opendip_environment_catalogue_info", "The catalogue version an environment serves (1)", ["environment", "version"]
)


def publish(described: list[dict[str, object]]) -> None:
    """Set every environment's figures from `EnvironmentService.describe()`."""
    CATALOGUE.clear()
    for env in described:
        name = str(env["name"])
        PARTICIPANTS.labels(name).set(float(env["participants"]))  # type: ignore[arg-type]
        MESSAGES.labels(name).set(float(env["messages"]))  # type: ignore[arg-type]
        UNDELIVERED.labels(name).set(float(env["undelivered"]))  # type: ignore[arg-type]
        CATALOGUE.labels(name, str(env["catalogueVersion"])).set(1)
