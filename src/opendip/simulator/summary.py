"""The summary of a market run: what the participants saw, next to what the hub's store holds."""

from __future__ import annotations

from collections import Counter
from typing import Any

from opendip.db.engine import Database
from opendip.simulator import hubstore
from opendip.simulator.engine import Simulation


def summarise(
    simulation: Simulation, db: Database, flows: int, drained: bool, statuses_passed_on: int
) -> dict[str, Any]:
    ledger = simulation.ledger
    by_code: dict[str, int] = {}
    for key, n in ledger.sent.items():
        by_code[key[4]] = by_code.get(key[4], 0) + n
    l4_modes: dict[str, int] = {}
    l4_codes: dict[str, int] = {}
    for (mode, code), n in ledger.l4.items():
        l4_modes[mode] = l4_modes.get(mode, 0) + n
        l4_codes[code] = l4_codes.get(code, 0) + n
    hub = hubstore.final_states(db)
    accepted_by_interface = Counter(interface for interface, _ in ledger.transactions.values())
    accepted_by_role = Counter(role for _, role in ledger.transactions.values())
    return {
        "flowsStarted": flows,
        "drained": drained,
        "sent": {
            "messages": sum(ledger.sent.values()),
            "byInterface": ledger.by(0),
            "bySenderRole": ledger.by(2),
            "byHttpAnswer": ledger.by(3),
            "byMsgCode": dict(sorted(by_code.items())),
            "accepted": len(ledger.transactions),
            "acceptedByInterface": dict(sorted(accepted_by_interface.items())),
            "acceptedBySenderRole": dict(sorted(accepted_by_role.items())),
            "duplicatesSent": ledger.duplicates_sent,
            "sendErrors": dict(ledger.send_errors),
            "stepErrors": dict(ledger.step_errors),
            "flowsLeftToRealParticipants": ledger.left_to_real_participants,
        },
        "recipients": {
            "webhookAnswers": {f"{role} {http}": n for (role, http), n in sorted(ledger.webhook_answers.items())},
            "byRcpCode": dict(sorted(ledger.recipient_codes.items())),
            "outageAnswers": ledger.outage_answers,
        },
        "l4": {
            "byTiming": dict(sorted(l4_modes.items())),
            "byCode": dict(sorted(l4_codes.items())),
            "hubAnswers": dict(sorted(ledger.l4_hub_answers.items())),
            "passedOnToSenders": statuses_passed_on,
        },
        "hub": hub,
        "notFinal": hub["messagesNotFinal"],
    }
