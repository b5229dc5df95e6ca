"""What one DIP message code is: its code, text, HTTP status and help; and OpenDIP's own range of codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageCode:
    code: str
    text: str
    http_status: int
    help: str
    retryable: bool = False

    @property
    def message(self) -> str:
        return f"{self.code} - {self.text}"


EXTENSION_RANGE = (2000, 5999)


def is_extension_code(code: str) -> bool:
    """OpenDIP's own codes live in MSG2000-MSG5999, numbers the published list does not use."""
    number = int(code[3:]) if code.startswith("MSG") and code[3:].isdigit() else -1
    return EXTENSION_RANGE[0] <= number <= EXTENSION_RANGE[1]
