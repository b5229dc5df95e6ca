"""What the hub's own store says about a market run: final states, pending work, real participants.

Read straight from the store the hub writes (messages, deliveries, L4
statuses), so a run's summary reports the hub's truth about each message, not
the simulator's belief about it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select

from opendip.db.engine import Database
from opendip.db.models import deliveries, messages
from opendip.participants.repository import all_participants
from opendip.status.tables import status_deliveries, status_messages

FINAL = ("delivered", "rejected", "exhausted", "unknown")


def pending(db: Database) -> int:
    """Outbox rows (message and L4 deliveries) not yet in a final state."""
    with db.engine.connect() as conn:
        waiting = conn.execute(select(func.count()).where(deliveries.c.state == "pending")).scalar_one()
        statuses = conn.execute(select(func.count()).where(status_deliveries.c.state == "pending")).scalar_one()
    return int(waiting) + int(statuses)


def final_states(db: Database) -> dict[str, Any]:
    """Per message (all its deliveries together) and per delivery, the state the hub holds."""
    with db.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.transaction_id, deliveries.c.state)).all()
        by_interface = conn.execute(
            select(messages.c.interface_id, func.count()).group_by(messages.c.interface_id)
        ).all()
        by_role = conn.execute(select(messages.c.sender_role, func.count()).group_by(messages.c.sender_role)).all()
        l4_codes = conn.execute(select(status_messages.c.code, func.count()).group_by(status_messages.c.code)).all()
        l4_passed = conn.execute(
            select(status_deliveries.c.state, func.count()).group_by(status_deliveries.c.state)
        ).all()
        total = conn.execute(select(func.count()).select_from(messages)).scalar_one()
    per_message: dict[str, list[str]] = defaultdict(list)
    for tx, state in rows:
        per_message[tx].append(state)
    message_states = Counter(_message_state(states) for states in per_message.values())
    return {
        "messages": int(total),
        "messagesByFinalState": dict(sorted(message_states.items())),
        "messagesNotFinal": message_states.get("pending", 0),
        "deliveriesByState": dict(sorted(Counter(state for _, state in rows).items())),
        "messagesByInterface": {k: int(v) for k, v in sorted(by_interface)},
        "messagesBySenderRole": {k: int(v) for k, v in sorted(by_role)},
        "l4ByCode": {k: int(v) for k, v in sorted(l4_codes)},
        "l4PassedOnByState": {k: int(v) for k, v in sorted(l4_passed)},
    }


def _message_state(states: list[str]) -> str:
    """A message is final when every recipient's delivery is; the worst outcome names it."""
    if "pending" in states:
        return "pending"
    for state in ("exhausted", "unknown", "rejected"):
        if state in states:
            return state
    return "delivered"


def registered(db: Database) -> list[dict[str, Any]]:
    """Every participant the hub knows (simulated or real)."""
    with db.engine.connect() as conn:
        return all_participants(conn)
