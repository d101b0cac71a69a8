"""Hostile clients on raw sockets: HTTP the parser refuses, oversized heads, and clients that stop sending.

Every refusal is the spec's error body (not uvicorn's text/plain "Invalid HTTP request received."), and every wait
is bounded: the stub runs with 1 s timeouts, and each socket read gives up after a few seconds.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from pixelpact.generator.runtime.config import StubConfig
from tests.stub.test_gateway import conforms

FAST = StubConfig(header_timeout=1.0, body_timeout=1.0, idle_timeout=1.0, max_header_bytes=8 * 1024)
GEN = "/v1/images/generations"


@pytest.fixture(scope="module")
def port(app_factory: Callable[[StubConfig], Any]) -> Iterator[int]:
    from pixelpact.generator.runtime.serve import stub_server

    with stub_server(FAST, app=app_factory(FAST)) as url:
        yield int(url.rsplit(":", 1)[1])


def exchange(port: int, data: bytes, *, read_timeout: float = 5.0) -> bytes:
    """Send `data` (in 64 KiB pieces, stopping if the stub closes first), then read until the stub closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        for start in range(0, len(data), 65536):
            try:
                sock.sendall(data[start : start + 65536])
            except OSError:
                break  # the stub answered and closed before taking it all
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                return out
            out += chunk
        return out


def envelope(raw: bytes, status: int) -> dict[str, Any]:
    """The status and error body of a raw HTTP/1.1 answer that closes the connection."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), raw[:300]
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    parsed: dict[str, Any] = json.loads(body)
    conforms(parsed, "BifrostError")
    assert parsed["status_code"] == status
    return parsed


def length(raw: bytes) -> int:
    """The Content-Length of a raw response whose head has arrived."""
    head = raw.partition(b"\r\n\r\n")[0].lower()
    return int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])


def post(headers: bytes, body: bytes = b"") -> bytes:
    return b"POST " + GEN.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n" + body


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("bad chunk size", post(b"Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n"), "chunk size"),
        ("Content-Length -5", post(b"Content-Length: -5\r\n"), "Content-Length"),
        ("two Content-Lengths", post(b"Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"), "Content-Length"),
        ("non-HTTP bytes", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "not valid HTTP"),
        ("a bare CR in a header", post(b"X-A: a\rb\r\n"), "not valid HTTP"),
        ("a header line without a colon", post(b"no colon here\r\n"), "not valid HTTP"),
    ],
)
def test_what_the_parser_refuses_is_a_400_with_the_error_body(port: int, name: str, data: bytes, needle: str) -> None:
    body = envelope(exchange(port, data), 400)
    assert needle in body["error"]["message"], (name, body)


def test_a_100_kib_request_line_is_414(port: int) -> None:
    body = envelope(exchange(port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414)
    assert "8192 bytes" in body["error"]["message"]


def test_one_huge_first_header_is_431_not_414(port: int) -> None:
    huge = b"POST " + GEN.encode() + b" HTTP/1.1\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\nHost: x\r\n\r\n"
    envelope(exchange(port, huge), 431)


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * (20 * 1024 * 1024) + b"\r\n",  # one 20 MiB header: refused before it is held whole
        b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200)),  # many small ones
    ],
    ids=["one-20-MiB-header", "200-headers"],
)
def test_a_head_over_the_bound_is_431_and_not_recorded(port: int, headers: bytes) -> None:
    before = httpx.get(f"http://127.0.0.1:{port}/_pixelpact/requests").json()["last_seq"]
    started = time.monotonic()
    envelope(exchange(port, post(headers + b"Content-Type: application/json\r\nContent-Length: 2\r\n", b"{}")), 431)
    assert time.monotonic() - started < 5
    assert httpx.get(f"http://127.0.0.1:{port}/_pixelpact/requests").json()["last_seq"] == before


def test_a_head_within_the_bound_is_served(port: int) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(40))  # about 4.5 KiB
    raw = exchange(
        port,
        post(
            headers + b"Content-Type: application/json\r\nConnection: close\r\nContent-Length: 33\r\n",
            b'{"model":"dall-e-2","prompt":"p"}',
        ),
    )
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:200]


def test_a_head_that_stops_halfway_is_408_after_the_header_timeout(port: int) -> None:
    started = time.monotonic()
    body = envelope(exchange(port, b"POST " + GEN.encode() + b" HTTP/1.1\r\nHost: x\r\n"), 408)
    assert 0.9 < time.monotonic() - started < 4
    assert "headers" in body["error"]["message"]


def test_a_body_shorter_than_its_content_length_is_408_after_the_body_timeout(port: int) -> None:
    started = time.monotonic()
    raw = exchange(port, post(b"Content-Type: application/json\r\nContent-Length: 100\r\n", b'{"model"'))
    body = envelope(raw, 408)
    assert 0.9 < time.monotonic() - started < 4
    assert "body" in body["error"]["message"]
    deadline = time.monotonic() + 3  # the app sees the disconnect and records the request just after
    while True:
        last = httpx.get(f"http://127.0.0.1:{port}/_pixelpact/requests").json()["requests"][-1]
        if last["status"] == 408 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (last["status"], last["error"]) == (408, body["error"]["message"])  # what the client got


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    started = time.monotonic()
    assert exchange(port, b"") == b""
    assert 0.9 < time.monotonic() - started < 4


def test_an_idle_keep_alive_connection_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /_pixelpact/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed by the stub, not by our timeout
        assert time.monotonic() - started < 4


def test_a_provider_keeps_an_idle_connection_longer_than_a_gateway_pools_it(
    app_factory: Callable[[StubConfig], Any],
) -> None:
    """The recording upstream must not close an idle connection under a gateway that still pools it (Bifrost: 30 s):
    a request written onto the closing connection is lost, and the two-sided run would fail at random."""
    from pixelpact.generator.runtime.serve import stub_server

    provider = replace(FAST, provider=True)
    assert provider.keep_alive >= 30
    with stub_server(provider, app=app_factory(provider)) as url:
        sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5)
        with sock:
            sock.sendall(b"GET /_pixelpact/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            time.sleep(FAST.idle_timeout + 1.0)  # past the gateway stub's idle timeout
            sock.sendall(b"GET /_pixelpact/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_slow_client_does_not_slow_down_others(port: int) -> None:
    """Ten connections trickling a body byte by byte while another client's requests are answered at once."""
    stop = threading.Event()

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(post(b"Content-Type: application/json\r\nContent-Length: 1000\r\n"))
            while not stop.wait(0.2):
                try:
                    sock.sendall(b" ")
                except OSError:
                    return

    slow = [threading.Thread(target=trickle, daemon=True) for _ in range(10)]
    for thread in slow:
        thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            started = time.monotonic()
            for _ in range(20):
                r = client.post(GEN, json={"model": "dall-e-2", "prompt": "p"})
                assert r.status_code == 200
            assert time.monotonic() - started < 3
    finally:
        stop.set()
        for thread in slow:
            thread.join(5)


def test_a_short_header_timeout_holds_after_a_long_body_timeout(app_factory: Callable[[StubConfig], Any]) -> None:
    """One timer per connection follows the phases: a head after a request gets the head's (shorter) timeout."""
    from pixelpact.generator.runtime.serve import stub_server

    config = StubConfig(header_timeout=1.0, body_timeout=30.0)
    with stub_server(config, app=app_factory(config)) as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                post(b"Content-Type: application/json\r\nContent-Length: 33\r\n", b'{"model":"dall-e-2","prompt":"p"}')
            )
            first = b""
            while b"\r\n\r\n" not in first or len(first.partition(b"\r\n\r\n")[2]) < length(first):
                first += sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200 ")
            started = time.monotonic()
            sock.sendall(b"POST " + GEN.encode() + b" HTTP/1.1\r\n")
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        envelope(raw, 408)
        assert time.monotonic() - started < 4


def test_a_pipelined_request_waiting_its_turn_is_not_timed_out(app_factory: Callable[[StubConfig], Any]) -> None:
    """While the stub works on the first request, the second's unread body is not the client's delay."""
    from pixelpact.generator.runtime.serve import stub_server

    config = StubConfig(body_timeout=0.5, latency_per_request_ms=1500)
    body = b'{"model":"dall-e-2","prompt":"p"}'
    with stub_server(config, app=app_factory(config)) as url:
        port = int(url.rsplit(":", 1)[1])
        first = post(b"Content-Type: application/json\r\nContent-Length: 33\r\n", body)
        second = post(b"Content-Type: application/json\r\nContent-Length: 33\r\n", body[:10])
        raw = exchange(port, first + second)
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:200]
    rest = raw.partition(b"\r\n\r\n")[2][length(raw) :]
    envelope(rest, 408)  # then the second, whose body never came, once its own clock ran out


def test_a_key_in_the_request_line_is_not_echoed(port: int) -> None:
    key = "sk-live-0123456789abcdefABCDEF"
    raw = exchange(
        port, f"GET /v1/{key}/images?api-key={key} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert raw.startswith(b"HTTP/1.1 404 ") and key.encode() not in raw, raw[:300]
    log = httpx.get(f"http://127.0.0.1:{port}/_pixelpact/requests").json()["requests"][-1]
    assert key not in log["query"]["api-key"]


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        (b"application/json", b'{"model":"dall-e-2","prompt":"p","n":1,"n":2}'),
        (
            b"multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="n"\r\n\r\n10 \r\n--B--\r\n',
        ),
    ],
    ids=["json-duplicate-key", "multipart-n-with-a-space"],
)
def test_bodies_that_say_two_things_are_400(port: int, ctype: bytes, body: bytes) -> None:
    path = GEN if ctype == b"application/json" else "/v1/images/variations"
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n".encode()
    raw = exchange(port, head + b"Content-Type: " + ctype + b"\r\n\r\n" + body)
    assert raw.startswith(b"HTTP/1.1 400 "), raw[:300]
    assert b'"param":"n"' in raw
