"""The defect workflow: states, the moves between them, and what counts as open.

    open -> investigating -> fixed -> retested -> closed
      \\________________\\______\\_________\\-> rejected (not a defect)

A fixed defect is re-tested through the same test case: the next run of its
case for its participant moves it to `retested` when it passes, and back to
`open` when it fails (the service does this as it records the run). Closed and
rejected defects may be reopened. Every state but closed and rejected is open,
so a fixed defect still holds an exit gate until its re-test passes and it is
closed.
"""

from __future__ import annotations

from opendip.errors import DipError, Msg

STATES = ("open", "investigating", "fixed", "retested", "closed", "rejected")
MOVES: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "fixed", "rejected"),
    "investigating": ("open", "fixed", "rejected"),
    "fixed": ("open", "retested", "rejected"),
    "retested": ("open", "closed"),
    "closed": ("open",),
    "rejected": ("open",),
}
OPEN = tuple(s for s in STATES if s not in ("closed", "rejected"))
SEVERITIES = {
    1: "critical: blocks testing, no workaround",
    2: "high: a business process fails, workaround possible",
    3: "medium: a fault that does not stop the process",
    4: "low: cosmetic or documentation",
}


def check_move(ref: str, state: str, to: str) -> None:
    if to not in STATES:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.to: one of {', '.join(STATES)}; got {to!r}")
    if to not in MOVES[state]:
        raise DipError(
            Msg.CHANGE_NOT_ALLOWED, f"{ref} is {state}: it may move to {', '.join(MOVES[state])}, not to {to}"
        )


def severity_of(value: object, where: str = "$.severity") -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) not in ("1", "2", "3", "4"):
        raise DipError(Msg.SCHEMA_FAILURE, f"{where}: 1 (critical), 2 (high), 3 (medium) or 4 (low); got {value!r}")
    return int(value)
