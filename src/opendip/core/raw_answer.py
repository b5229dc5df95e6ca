"""The HTTP protocol answering by itself, outside the app: a StandardResponse written straight to the socket.

The hub's guards on a connection (read deadlines, the request head's cap) refuse a
request before the app has it, so they write the answer themselves. After the
answer the connection is half-closed and no longer read, then closed a moment
later: a client still sending its oversized or stalled request reads the answer
first instead of losing it to the reset that closing with unread bytes causes.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from opendip.core.responses import error_response
from opendip.errors import DipError

LINGER_SECONDS = 0.5  # between the answer (and FIN) and closing; the bytes sent meanwhile are left unread


class RawAnswerProtocol(HttpToolsProtocol):
    answered: bool = False  # the connection got its final answer from the protocol: nothing more is read

    def answer_and_close(self, status: int, reason: str, error: DipError) -> None:
        """Answer `error` with this status once, then close; with a request of the app still running on the
        connection (pipelined), close without an answer, which would otherwise be read as that request's."""
        if self.answered or self.transport.is_closing():
            return
        self.answered = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        body = error_response(error)
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n" % (status, reason.encode())
            + b"content-length: %d\r\n\r\n" % len(body)
            + body
        )
        if not self.transport.can_write_eof():  # TLS: close_notify after the answer
            self.transport.close()
            return
        self.transport.write_eof()
        self.transport.pause_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
