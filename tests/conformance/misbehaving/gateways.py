"""Gateways that misbehave the same way on every request: each tells the suite nothing about the image API, so a
run against it must pass (almost) nothing.

Each is a small ASGI app served on loopback (pixelpact.generator.runtime.serve.stub_server(app=...)), or for the half
body a raw socket; every one reads the whole request first, as a real gateway would, then answers the same way whatever
was asked. `serving(name)` serves any of them.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.generator.runtime.serve import stub_server
from tests.conformance.broken.toolkit import read_body
from tests.conformance.hostile.servers import serve


def envelope(message: str) -> bytes:
    """The spec's error body, well formed: a gateway that answers with it is wrong only in its status."""
    return json.dumps({"error": {"message": message, "type": "invalid_request_error"}}).encode()


Answer = Callable[[Scope], tuple[int, list[tuple[bytes, bytes]], bytes]]
"""scope -> (status, headers, body)."""


def answering(answer: Answer) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await read_body(receive)
        status, headers, body = answer(scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


JSON = (b"content-type", b"application/json")


def only(status: int, message: str) -> ASGIApp:
    """Every request gets `status` with a well-formed error envelope."""
    return answering(lambda scope: (status, [JSON], envelope(message)))


def only_redirect() -> ASGIApp:
    """Every request is sent elsewhere on the same gateway (which sends it on again)."""
    return answering(lambda scope: (302, [(b"location", b"/moved"), JSON], b"{}"))


def valid_looking_body(scope: Scope | dict[str, list[tuple[bytes, bytes]]]) -> bytes:
    """An image answer that validates against the spec's response schemas: one url, a recent `created`."""
    host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode()
    return json.dumps({"created": int(time.time()), "data": [{"url": f"http://{host}/images/0.png"}]}).encode()


def only_200() -> ASGIApp:
    """Every request, valid or not, to any path, gets 200 with the same valid-looking image answer."""
    return answering(lambda scope: (200, [JSON], valid_looking_body(scope)))


@contextmanager
def half_a_body() -> Iterator[str]:
    """A raw-socket gateway on loopback: every request gets 200, a Content-Length, half the valid-looking body it
    declares, and a closed connection. Yields its base URL."""
    with serve(_half_a_body) as url:
        yield url


def _half_a_body(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    host = re.search(rb"(?im)^host:\s*(\S+)", head)
    full = valid_looking_body({"headers": [(b"host", host.group(1) if host else b"127.0.0.1")]})
    status = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(full)
    conn.sendall(status + full[: len(full) // 2])


@contextmanager
def serving(name: str) -> Iterator[str]:
    """Serve the misbehaving gateway `name` on loopback and yield its base URL."""
    if name == "half-a-body":
        with half_a_body() as url:
            yield url
        return
    with stub_server(app=ASGI_GATEWAYS[name]()) as url:
        yield url


ASGI_GATEWAYS: dict[str, Callable[[], ASGIApp]] = {
    "only-400": lambda: only(400, "bad request"),
    "only-401": lambda: only(401, "missing or invalid API key"),
    "only-404": lambda: only(404, "no such route"),
    "only-302": only_redirect,
    "only-200": only_200,
}
GATEWAYS = (*ASGI_GATEWAYS, "half-a-body")
