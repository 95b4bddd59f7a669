"""LANGFUSE_HTTP_HEADERS_TIMEOUT_MS for uvicorn, which has no headers timeout of its own.

Uvicorn closes idle keep-alive connections (`timeout_keep_alive`), but a client that opens
a connection and sends its request headers slowly, or never, holds the connection for ever.
Node.js (and so Langfuse) bounds that with `server.headersTimeout`. These protocol classes
add the same bound to uvicorn's two HTTP/1.1 implementations: a timer starts when the
connection opens or a request begins, stops when the headers are complete, and when it fires
the connection is closed, with a 408 answer if part of a request had arrived.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_TIMEOUT_BODY = b"Request headers did not arrive in time"
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(REQUEST_TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + REQUEST_TIMEOUT_BODY
)


def headers_timeout_seconds() -> float:
    from django.conf import settings

    return settings.HTTP_HEADERS_TIMEOUT_MS / 1000


class HeadersTimeout:
    """Mixin for a uvicorn HTTP protocol; the subclass calls _arm, _disarm and sets _partial."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _headers_timer: asyncio.TimerHandle | None = None
    _partial = False  # part of a request has arrived

    def _arm(self) -> None:
        seconds = headers_timeout_seconds()
        if self._headers_timer is None and seconds > 0:
            self._headers_timer = self.loop.call_later(seconds, self._headers_timed_out)

    def _disarm(self) -> None:
        self._partial = False
        if self._headers_timer is not None:
            self._headers_timer.cancel()
            self._headers_timer = None

    def _response_in_flight(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.response_complete

    def _headers_timed_out(self) -> None:
        self._headers_timer = None
        if self.transport.is_closing():
            return
        if self._response_in_flight():
            # A pipelined request waits behind a response being written: look again later.
            self._arm()
            return
        if self._partial:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()


class H11WithHeadersTimeout(HeadersTimeout, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()
            self._partial = True
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional; uvicorn[standard] installs it
    HttpToolsWithHeadersTimeout = None
else:

    class HttpToolsWithHeadersTimeout(HeadersTimeout, HttpToolsProtocol):  # type: ignore[no-redef]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()
            self._partial = True

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)


def protocol_class() -> str:
    """The uvicorn `http` setting: the implementation `auto` would pick, with the headers timeout."""
    if headers_timeout_seconds() <= 0:
        return "auto"
    if HttpToolsWithHeadersTimeout is not None:
        return "langfuse_ui.http_timeouts:HttpToolsWithHeadersTimeout"
    return "langfuse_ui.http_timeouts:H11WithHeadersTimeout"
