"""MPAN cores: 13 digits whose last is a check digit over the first twelve.

A real registration service refuses an MPAN whose check digit is wrong before
it looks anything up, so the simulated one does too (REG0000).
"""

from __future__ import annotations

# The published MPAN check-digit weights (prime numbers, one per leading digit).
WEIGHTS = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def check_digit(first_twelve: str) -> int:
    return sum(int(d) * w for d, w in zip(first_twelve, WEIGHTS, strict=True)) % 11 % 10


def is_valid(mpan: str) -> bool:
    """Thirteen digits with the right check digit."""
    return len(mpan) == 13 and mpan.isdigit() and check_digit(mpan[:12]) == int(mpan[12])


def make(distributor_id: int, serial: int) -> str:
    """An MPAN core for a distributor area (its two-digit ID leads, as in the real numbering)."""
    body = f"{distributor_id % 100:02d}{serial % 10**10:010d}"
    return body + str(check_digit(body))


def corrupt(mpan: str) -> str:
    """The same MPAN with a wrong check digit: what a mistyped MPAN looks like."""
    return mpan[:12] + str((int(mpan[12]) + 1) % 10)
