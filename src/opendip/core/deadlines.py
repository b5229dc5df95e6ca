"""Read deadlines on every connection: a client that sends its request slowly, or not at all, is let go.

uvicorn times out an idle keep-alive connection, but not a new connection that
sends nothing, nor request headers or a body dribbled a byte at a time: each
such client holds a socket and its buffers for as long as it likes (slowloris).
This protocol gives the request head `head_timeout` seconds from the
connection's first moment (or from the first byte of the next request on a
kept-alive connection) and answers 408 with a StandardResponse when it runs
out; the body gets `body_timeout` seconds from the end of the head. The app's
own body reads answer 408 at that deadline (`core.http.read_body`) with
`Connection: close`, so the socket is closed as soon as the answer is written
rather than kept to read the rest of a body nobody will use; this one, a few
seconds later, is the backstop for every route, and closes the connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from opendip.core.raw_answer import RawAnswerProtocol
from opendip.errors import DipError, Msg

BACKSTOP_GRACE = 5.0  # seconds past the app's own body deadline before the connection is closed


class DeadlineProtocol(RawAnswerProtocol):
    head_timeout: float = 10.0
    body_timeout: float = 60.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm(self.head_timeout, self._head_expired)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.head_timeout, self._head_expired)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout + BACKSTOP_GRACE, self._body_expired)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, expired: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_expired(self) -> None:
        self._deadline = None
        error = DipError(
            Msg.REQUEST_TIMEOUT, f"the request line and headers did not arrive within {self.head_timeout:g} s"
        )
        self.answer_and_close(408, "Request Timeout", error)

    def _body_expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()  # the app sees a disconnect and ends the request
