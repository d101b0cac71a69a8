"""The stub's HTTP/1.1 layer: uvicorn's httptools protocol, with the gateway's error body and bounds on the wire.

uvicorn answers a request it cannot parse with `400 text/plain "Invalid HTTP request received."`, puts no bound on the
request line and headers, and waits forever for a head or a body that never comes. Below the ASGI app none of that
reaches the gateway's exception handlers, so this protocol (the `http` class of the stub's uvicorn.Config) does it:

- anything httptools refuses (a bad chunk size, Content-Length -5, two Content-Lengths, a bare CR, bytes that are not
  HTTP) gets a 400 with the spec's error body, naming what the parser saw, and the connection is closed;
- a request line longer than `max_header_bytes` gets 414, a head (request line plus headers) longer than it 431;
- a head not complete `header_timeout` seconds after its first byte, or a body that stops arriving for
  `body_timeout` seconds, gets 408; a connection that never sends a byte is closed after `header_timeout`, and one
  idle between requests after `idle_timeout` (uvicorn's keep-alive timeout; longer for a provider, `keep_alive`).

Every connection is served by the event loop independently, so a slow client holds only its own connection.
"""

from __future__ import annotations

import asyncio
import http
import logging
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.errors import WIRE_ERROR, GatewayError

logger = logging.getLogger("uvicorn.error")


class StubUvicornConfig(uvicorn.Config):
    """A uvicorn.Config that also carries the StubConfig to the protocol (pickled to `--workers` processes)."""

    def __init__(self, app: Any, *, stub: StubConfig, **kwargs: Any) -> None:
        super().__init__(app, http=StubHttpProtocol, timeout_keep_alive=max(1, round(stub.keep_alive)), **kwargs)
        self.stub = stub


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; data_received answers with the error it carries."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


#: Bytes a head may exceed the bound by before data_received refuses it without waiting for httptools: httptools keeps
#: a header's value in memory until the value ends, so a 20 MiB header would otherwise be held whole.
_READ_SLACK = 64 * 1024


class StubHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the error body, a head bound and read timeouts (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: StubConfig = getattr(config, "stub", None) or StubConfig()
        self._in_head = True
        self._head_bytes = 0  # request line and headers, as parsed
        self._raw_head_bytes = 0  # bytes received while a head was incomplete
        self._message_started = False
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._timer_at = 0.0
        self._why = "head"

    # -- timers
    # One loop timer per connection at most: each phase only moves a deadline (an attribute write), and the timer,
    # when it fires early, sleeps again until the deadline. Re-arming a loop timer per phase cost ~40 function calls
    # per request (see bench/stub_wire_profile.py).

    def _arm(self, seconds: float, why: str) -> None:
        self._deadline = self.loop.time() + seconds
        self._why = why
        if self._timer is not None and self._timer_at > self._deadline:
            self._timer.cancel()  # a shorter timeout than the pending timer's (header_timeout < body_timeout)
            self._timer = None
        if self._timer is None:
            self._timer_at = self._deadline
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)

    def _disarm(self) -> None:
        self._deadline = None

    def _check_deadline(self) -> None:
        self._timer = None
        if self._deadline is None or self.transport.is_closing():
            return
        if self.flow.read_paused or self.pipeline:
            # Reading is paused on our side (a body not yet consumed, or a pipelined request waiting for the one
            # before it): the client is not late, so its clock starts again when reading resumes.
            seconds = self.limits.header_timeout if self._why == "head" else self.limits.body_timeout
            self._deadline = self.loop.time() + seconds
        if self.loop.time() < self._deadline:
            self._timer_at = self._deadline
            self._timer = self.loop.call_at(self._deadline, self._check_deadline)
            return
        self._deadline = None
        self._timed_out(self._why)

    def _timed_out(self, why: str) -> None:
        if why == "idle":
            self.timeout_keep_alive_handler()  # uvicorn's: close the idle keep-alive connection
            return
        if why == "head" and not self._message_started:
            self.transport.close()  # never sent a byte: nothing to answer
            return
        seconds = self.limits.header_timeout if why == "head" else self.limits.body_timeout
        what = "request headers" if why == "head" else "request body"
        self._refuse(GatewayError(408, f"the {what} did not arrive within {seconds:g} s", None, code="request_timeout"))

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_head:
            self._raw_head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket routes: the request is served as plain HTTP
        except httptools.HttpParserError as exc:
            refused = exc.__context__
            if isinstance(refused, _Refused):
                self._refuse(refused.error)
            else:
                self._refuse(GatewayError(400, f"the request is not valid HTTP/1.1: {_parser_reason(exc)}", None))
            return
        if self._in_head and self._raw_head_bytes > self.limits.max_header_bytes + _READ_SLACK:
            self._refuse(self._too_large())

    # -- parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_started = True
        self._arm(self.limits.header_timeout, "head")

    # The callbacks below run for every request: they set attributes inline rather than call helpers.

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._head_bytes += len(url)
        if self._head_bytes > self.limits.max_header_bytes:
            raise _Refused(self._too_large())

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4  # "name: value\r\n"
        if self._head_bytes > self.limits.max_header_bytes:
            raise _Refused(self._too_large())
        # uvicorn's on_header, inline (it runs for every header of every request)
        name = name.lower()
        value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace, which RFC 9110 5.5 excludes from the value
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._arm(self.limits.body_timeout, "body")
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = _HeadWithBody(self.transport, self.loop)  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        if self._timer is None:
            self._arm(self.limits.body_timeout, "body")
        else:  # the body's deadline only moves later: the pending timer sleeps again when it fires early
            self._deadline = self.loop.time() + self.limits.body_timeout
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._deadline = None
        self._in_head, self._head_bytes, self._raw_head_bytes, self._message_started = True, 0, 0, False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # uvicorn's, but the keep-alive timeout is this connection's deadline (`idle`) rather than a loop timer made
        # and cancelled for every request.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._arm(self.timeout_keep_alive, "idle")

    # -- refusing

    def _too_large(self) -> GatewayError:
        limit = self.limits.max_header_bytes
        # The request line is the culprit when it alone takes most of the bound (httptools does not say where the
        # line ends; a long line with a few headers is still a long line).
        if len(getattr(self, "url", b"")) > limit // 2:
            return GatewayError(414, f"the request line is longer than {limit} bytes", None, code="uri_too_long")
        return GatewayError(
            431, f"the request headers are larger than {limit} bytes", None, code="request_header_fields_too_large"
        )

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own refusals (e.g. an invalid header for a WebSocket upgrade) get the error body too.
        self._refuse(GatewayError(400, msg, None))

    def _refuse(self, error: GatewayError) -> None:
        """Answer `error` with the spec's error body and close: after a framing error the stream cannot be trusted."""
        self._disarm()
        logger.warning("%s %s", error.status, error.message)
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # The app's answer to a half-read request must not follow this one; it records what the client got.
            scope: dict[str, Any] = self.cycle.scope  # type: ignore[assignment]
            scope[WIRE_ERROR] = (error.status, error.message)
            self.cycle.disconnected = True
            self.cycle.message_event.set()
            if self.cycle.response_started:
                self.transport.close()  # it has begun answering: a second status line would corrupt its stream
                return
        body = error.response().body
        phrase = http.HTTPStatus(error.status).phrase
        head = (
            f"HTTP/1.1 {error.status} {phrase}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + bytes(body))
        self.transport.close()


class _HeadWithBody:
    """The transport one answer is written through: its head goes out with the first piece of its body, in one write.

    uvicorn writes a response's status line and headers, then its body, as two writes: two send() system calls and
    two TCP segments for every small JSON answer, about a sixth of a request's time on loopback. Held here, the head
    is joined to the body; if no body follows in the same turn of the event loop (a stream whose first event is not
    ready, a HEAD request), the head goes out on its own at the next turn, so nothing waits for it.
    """

    __slots__ = ("_first", "_held", "_loop", "_transport")

    #: A body larger than this is not copied to join it to the head (two writes cost less than the copy).
    JOIN_LIMIT = 256 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        if self._first:
            self._first = False
            self._held = data
            self._loop.call_soon(self._flush)
            return
        held = self._held
        if held is not None:
            self._held = None
            if len(data) <= self.JOIN_LIMIT:
                self._transport.write(held + data)
                return
            self._transport.write(held)
        self._transport.write(data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _parser_reason(exc: Exception) -> str:
    """httptools' description of a parse error (llhttp's, e.g. "Invalid character in chunk size"), printable."""
    reason = str(exc).strip() or type(exc).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in reason)[:200]
