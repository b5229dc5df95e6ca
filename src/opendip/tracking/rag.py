"""RAG status from the tracked data, by rules written down here and in docs/testing.md.

For a participant in a cohort, on a given day (expected progress is a straight
line from 0 % on the cohort's first planned day to 100 % on its last):

1. RED   an open severity-1 defect touches it;
2. GREEN its phase's exit criteria are all met (complete);
3. RED   the cohort's planned end has passed with exit criteria unmet;
4. RED   it is more than 25 points behind the expected share of cases passed;
5. AMBER an open severity-2 defect; a planned case whose newest result is failed or
         blocked; the cohort has started with entry criteria unmet; or behind the
         expected share at all;
6. GREEN otherwise (on plan).

A cohort is as bad as its worst participant (RED if any is red, else AMBER if any
is amber); a cohort with no participants is AMBER.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

RED, AMBER, GREEN = "RED", "AMBER", "GREEN"
BEHIND_FOR_RED = 25.0
ORDER = {RED: 0, AMBER: 1, GREEN: 2}


@dataclass(frozen=True)
class Rag:
    colour: str
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"rag": self.colour, "ragReasons": self.reasons}


def expected_percent(starts: dt.date, ends: dt.date, today: dt.date) -> float:
    """The share of planned cases that should have passed by `today` on a straight-line plan."""
    if today < starts:
        return 0.0
    days = (ends - starts).days + 1
    return min(100.0, 100.0 * ((today - starts).days + 1) / days)


def participant_rag(
    *,
    passed: int,
    planned: int,
    failing: list[str],
    open_defects: list[dict[str, Any]],
    exit_met: bool,
    entry_unmet: list[str],
    starts: dt.date,
    ends: dt.date,
    today: dt.date,
) -> Rag:
    sev1 = [d["ref"] for d in open_defects if d["severity"] == 1]
    if sev1:
        return Rag(RED, [f"open severity-1 defect {', '.join(sev1)}"])
    if exit_met and planned:
        return Rag(GREEN, ["exit criteria met"])
    done = 100.0 * passed / planned if planned else 0.0
    expected = expected_percent(starts, ends, today)
    if today > ends:
        return Rag(RED, [f"planned end {ends} passed with exit criteria unmet ({done:.0f}% passed)"])
    if expected - done > BEHIND_FOR_RED:
        return Rag(RED, [f"{done:.0f}% passed against {expected:.0f}% planned by {today}"])
    reasons = [f"open severity-2 defect {d['ref']}" for d in open_defects if d["severity"] == 2]
    reasons += failing
    if entry_unmet and today >= starts:
        reasons.append(f"started {starts} with entry criteria unmet: {', '.join(entry_unmet)}")
    if done < expected:
        reasons.append(f"behind plan: {done:.0f}% passed against {expected:.0f}% planned by {today}")
    if reasons:
        return Rag(AMBER, reasons)
    return Rag(GREEN, [f"on plan: {done:.0f}% passed, {expected:.0f}% planned by {today}"])


def cohort_rag(members: list[tuple[str, Rag]]) -> Rag:
    if not members:
        return Rag(AMBER, ["no participants in the cohort"])
    worst = min((rag.colour for _, rag in members), key=ORDER.__getitem__)
    if worst == GREEN:
        return Rag(GREEN, [f"all {len(members)} participants green"])
    return Rag(
        worst, [f"{dip_id}: {rag.colour}: {'; '.join(rag.reasons)}" for dip_id, rag in members if rag.colour == worst]
    )
