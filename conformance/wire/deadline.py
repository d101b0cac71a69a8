"""Wall-clock deadlines for the suite's requests, below httpx: every socket operation is bounded by what is left.

httpx's timeouts bound each socket operation, not the request: a gateway that sends a byte every few seconds, or an
event stream that never ends, is never cut off. Here the sending thread sets a deadline (`Deadlines.within`) and
every connect, read and write of its request waits at most until then. Reads wait in short slices, so an abort (Ctrl-C,
the run's --max-time) reaches a request blocked on a silent gateway within a fraction of a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

#: The longest one read waits before it looks at the deadline and the abort flag again.
SLICE = 0.25


class Deadlines:
    """Per-thread request deadlines, and an abort that cuts every request in flight short."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.aborted: Callable[[], bool] = lambda: False
        """Set by the sender: when it returns True, every wait ends at once (interrupted, time up)."""

    @contextmanager
    def within(self, deadline: float) -> Iterator[None]:
        """Socket operations of the current thread end at `deadline` (time.monotonic()) at the latest."""
        self._local.deadline = deadline
        try:
            yield
        finally:
            self._local.deadline = None

    def left(self) -> float | None:
        """Seconds left for the current thread's request; None when it has no deadline."""
        deadline: float | None = getattr(self._local, "deadline", None)
        return None if deadline is None else deadline - time.monotonic()

    def bound(self, timeout: float | None) -> float | None:
        """`timeout` shortened to what is left (raises ReadTimeout when nothing is)."""
        if self.aborted():
            raise httpcore.ReadTimeout("the run stopped")
        left = self.left()
        if left is None:
            return timeout
        if left <= 0:
            raise httpcore.ReadTimeout("the request's deadline passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadlines: Deadlines) -> None:
        self._stream = stream
        self._deadlines = deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        started = time.monotonic()
        while True:
            rest = None if timeout is None else timeout - (time.monotonic() - started)
            if rest is not None and rest <= 0:
                raise httpcore.ReadTimeout("timed out")
            wait = self._deadlines.bound(rest)
            try:
                return self._stream.read(max_bytes, SLICE if wait is None else min(wait, SLICE))
            except httpcore.ReadTimeout:
                pass  # a slice passed with no byte: the next turn looks at the timeout, the deadline and the abort

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadlines.bound(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _Stream(
            self._stream.start_tls(ssl_context, server_hostname, self._deadlines.bound(timeout)), self._deadlines
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend, deadlines: Deadlines) -> None:
        self._backend = backend
        self._deadlines = deadlines

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, self._deadlines.bound(timeout), local_address, socket_options)
        return _Stream(stream, self._deadlines)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._backend.connect_unix_socket(path, self._deadlines.bound(timeout), socket_options), self._deadlines
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def install(client: httpx.Client, deadlines: Deadlines) -> bool:
    """Make every connection `client` opens obey `deadlines`; False when its transports are not httpx's own.

    httpx has no public hook for the network backend, so this sets the backend of each connection pool the client
    routes to (its transport and its proxy mounts) before any connection is opened.
    """
    transports = [client._transport, *client._mounts.values()]
    installed = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _Backend(backend, deadlines)  # type: ignore[union-attr]
            installed = True
    return installed
