"""A cap on each request's head (request line and headers): no client makes the hub hold an unbounded one.

httptools, the parser uvicorn runs here, has no limit of its own: it gathers a header's
name and value, however long, before handing them over, so a 1 MB header (or thousands
of small ones) was read and kept in memory. This protocol counts the bytes of each head
as they arrive, before the parser sees them; past `max_head_bytes` the request is answered
431 (MSG4031) and the connection closed, the rest unread.

The count is per chunk read from the socket: the bytes of a pipelined request that follow
the previous request's end in the same chunk are not counted, so such a head may pass the
cap by at most one read (256 KB with uvloop); still bounded.
"""

from __future__ import annotations

import structlog

from opendip.core.raw_answer import RawAnswerProtocol
from opendip.errors import DipError, Msg

log = structlog.get_logger(__name__)


class HeadLimitProtocol(RawAnswerProtocol):
    max_head_bytes: int = 64 * 1024
    _head_open: bool = True  # reading a request's head: from the connection's start or the previous request's end
    _head_seen: int = 0

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return
        if not self._head_open:
            super().data_received(data)
            return
        room = self.max_head_bytes - self._head_seen
        if len(data) <= room:
            self._head_seen += len(data)
            super().data_received(data)
            return
        self._head_seen = self.max_head_bytes
        super().data_received(data[:room])  # the head may end within what is left of the allowance
        if self.transport.is_closing() or self.answered:
            return
        if self._head_open:
            self._refuse_head()
            return
        self.data_received(data[room:])  # the body, or the next request's head counted from its start

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._head_open, self._head_seen = True, 0
        super().on_message_complete()

    def _refuse_head(self) -> None:
        log.info("request head over the cap answered 431", limit=self.max_head_bytes, client=str(self.client))
        error = DipError(
            Msg.HEADERS_TOO_LARGE,
            f"the request line and headers exceed {self.max_head_bytes:,} bytes; send large data in the body",
        )
        self.answer_and_close(431, "Request Header Fields Too Large", error)
