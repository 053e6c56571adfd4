"""How `digest serve` bounds a connection: uvicorn's HTTP/1.1 protocol with a request deadline.

uvicorn times out only a keep-alive connection idling after an answer, and starts that clock
again on every byte; it has no deadline for a request to arrive (its issue #157). A client that
connects and sends nothing, or drips a request head a byte at a time, holds its connection for
ever. Here a connection has `timeout` seconds, from when it opens or from its last answer, to
send a whole request, head and body; then it is closed. A request head over `max_head` bytes
is answered 431 and the connection closed (httptools itself sets no limit).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
    b"connection: close\r\n\r\n"
)


class DeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol plus a deadline for each request and a cap on its head."""

    timeout = 10.0
    max_head = 16 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._reading_head = True

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head:
                self._disarm()
                self.transport.write(_HEAD_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()  # the request is in; answering it has no deadline here
        self._reading_head, self._head_bytes = True, 0  # whatever comes next is a new head
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()


def with_deadline(timeout: float) -> type[DeadlineProtocol]:
    """The protocol class with this many seconds for each request."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"timeout": timeout})
