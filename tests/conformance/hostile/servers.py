"""Hostile gateways: raw-socket servers on 127.0.0.1 that misbehave on the wire the way no ASGI app can.

Each behaviour is a function `(connection, request head) -> None` run on its own thread per connection; `serve(fn)`
runs one on a free port for the duration of a `with` block and ends every thread it started when it leaves.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

from pixelpact.generator.runtime.credentials import KEY_HEADERS

Behaviour = Callable[[socket.socket, bytes, threading.Event], None]


def read_head(conn: socket.socket) -> bytes:
    """The request line and headers (the body is read, at most 1 MiB, and dropped)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    left = min(length, 2**20) - len(rest)
    while left > 0:
        chunk = conn.recv(min(left, 65536))
        if not chunk:
            break
        left -= len(chunk)
    return head


def response(status: str, headers: dict[str, str] | list[tuple[str, str]], body: bytes = b"") -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in items)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- behaviours ------------------------------------------------------------------------------------------------------


def never_answers(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """Reads the request, then holds the connection open without a byte until the server stops."""
    stop.wait()


def resets(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """Reads the request, then resets the connection (RST, not FIN)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def garbage(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """Answers with bytes that are not HTTP."""
    conn.sendall(os.urandom(2048).replace(b"\r", b"").replace(b"\n", b""))


def half_body(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """Promises 10,000 bytes of JSON, sends 100, closes."""
    conn.sendall(
        response("200 OK", {"Content-Type": "application/json", "Content-Length": "10000"}, b'{"data": [' * 10)
    )


def endless_sse(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """A 200 event stream that never ends: a partial-image event every 50 ms."""
    conn.sendall(response("200 OK", {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}))
    event = b'event: image_generation.partial_image\ndata: {"type": "image_generation.partial_image"}\n\n'
    chunk = f"{len(event):x}\r\n".encode() + event + b"\r\n"
    while not stop.is_set():
        conn.sendall(chunk)
        time.sleep(0.05)


def trickle(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """A 200 whose body comes one byte every 100 ms, forever: each read succeeds, the response never ends."""
    conn.sendall(response("200 OK", {"Content-Type": "application/json", "Content-Length": "1000000"}))
    while not stop.is_set():
        conn.sendall(b" ")
        time.sleep(0.1)


def slow_headers(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """A status line, then its headers one byte every 100 ms, forever: the response never even starts."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.is_set():
        conn.sendall(b"a")
        time.sleep(0.1)


def not_found(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """404 with the error envelope to everything: the gateway serves its routes under another prefix."""
    body = b'{"error": {"message": "no route"}}'
    conn.sendall(
        response("404 Not Found", {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)
    )


HUGE = 50 * 1024 * 1024


def huge_body(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """A 200 JSON answer of 50 MB (a string of 'A's), sent as fast as the client reads."""
    conn.sendall(response("200 OK", {"Content-Type": "application/json", "Content-Length": str(HUGE)}))
    conn.sendall(b'{"data": "')
    block = b"A" * 65536
    sent = 10
    while sent + len(block) < HUGE - 2 and not stop.is_set():
        conn.sendall(block)
        sent += len(block)
    conn.sendall(b"A" * (HUGE - 2 - sent) + b'"}')


def huge_chunked(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """A 200 JSON answer of 50 MB in chunks, without a Content-Length: only reading tells how large it is."""
    conn.sendall(response("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    block = b"A" * 65536
    frame = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    conn.sendall(b'a\r\n{"data": "\r\n')
    sent = 10
    while sent + len(block) < HUGE - 2 and not stop.is_set():
        conn.sendall(frame)
        sent += len(block)
    conn.sendall(b'2\r\n"}\r\n0\r\n\r\n')


def redirect_loop(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """302 to the very same URL, forever."""
    path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
    conn.sendall(response("302 Found", {"Location": path, "Content-Length": "0"}))


def yes_to_everything(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """200 with an empty JSON object, whatever was asked."""
    conn.sendall(response("200 OK", {"Content-Type": "application/json", "Content-Length": "2"}, b"{}"))


def echoes_credentials(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """Echoes every credential it was sent in a header name, a header value and the body (401 and 200 alike)."""
    echoed = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() in KEY_HEADERS:
            echoed.append(value.strip())
    headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
    for index, value in enumerate(echoed):
        token = value.split()[-1] if value else value
        headers += [(f"X-Echo-{token}", "seen"), (f"X-Echo-{index}", value)]
    body = ('{"error": {"message": "bad key ' + " ".join(echoed).replace('"', "") + '"}}').encode()
    status = "200 OK" if echoed else "401 Unauthorized"
    conn.sendall(response(status, [*headers, ("Content-Length", str(len(body)))], body))


#: What a gateway may write in the hope that a report renders it: HTML, a Markdown link and image, backticks, a pipe,
#: a newline, emphasis and a terminal escape sequence (clear the screen).
MARKUP = (
    "\x1b[2J`tick` ``two`` </title><script>alert(3)</script> [x](http://evil) ![i](http://evil/p.png) "
    "a|b\nc *em* <img src=x onerror=alert(4)>"
)
#: A header name with markup in it: the wire does not allow it (the client refuses the answer and says why).
EVIL_HEADER = "X-Evil</title><script>alert(3)</script>"


def markup(conn: socket.socket, head: bytes, stop: threading.Event) -> None:
    """Generations: a 500 whose error message and header values carry MARKUP; any other route: an answer with
    EVIL_HEADER as a header name."""
    if b"/generations" not in head.split(b"\r\n", 1)[0]:
        conn.sendall(response("200 OK", [(EVIL_HEADER, "1"), ("Content-Length", "0")]))
        return
    body = json.dumps({"error": {"message": MARKUP, "type": "server_error"}}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("X-Evil", "</title><script>alert(3)</script>"),
        ("X-Link", "[x](http://evil) ![i](http://evil/p.png) a|b `tick`"),
        ("Content-Length", str(len(body))),
    ]
    conn.sendall(response("500 Internal Server Error", headers, body))


# --- the server ------------------------------------------------------------------------------------------------------


def _handle(conn: socket.socket, behaviour: Behaviour, stop: threading.Event) -> None:
    with contextlib.suppress(OSError), conn:
        conn.settimeout(30)
        while not stop.is_set():
            head = read_head(conn)
            if not head:
                return
            behaviour(conn, head, stop)
            if behaviour not in (yes_to_everything, redirect_loop, echoes_credentials, not_found):
                return  # one answer per connection; the others keep the connection alive like a real server


@contextlib.contextmanager
def serve(behaviour: Behaviour) -> Iterator[str]:
    """Run `behaviour` on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    connections: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            thread = threading.Thread(target=_handle, args=(conn, behaviour, stop), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(5)


if __name__ == "__main__":  # run one by hand: python tests/conformance/hostile/servers.py huge_body
    import sys

    with serve(globals()[sys.argv[1]]) as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
