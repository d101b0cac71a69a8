"""CPU time per request of the stub gateway's ASGI app, without sockets (not a timed test).

    .venv/bin/python bench/stub_profile.py            # CPU microseconds per request, three request kinds
    .venv/bin/python bench/stub_profile.py --profile  # and the top functions of each, by own time
    .venv/bin/python bench/stub_profile.py --app bare # bench/bare_app.py (JSON and multipart; it has no health route)

The app is called directly with a prepared ASGI scope, so the figure is the cost of Starlette, the generated routes
and models, and the runtime, with no HTTP parsing or network. A reserved GET route (health) gives the floor: what the
framework costs before the gateway does anything. CPU time (time.process_time) rather than wall time, so other load
on the machine does not inflate it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image

from pixelpact.generated.server import create_app

BOUNDARY = "pixelpactbench"


def multipart_body() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(image, "PNG")
    fields = [("model", "openai/dall-e-2"), ("n", "1"), ("size", "256x256")]
    out = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields
    )
    out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'.encode()
    return out + b"Content-Type: image/png\r\n\r\n" + image.getvalue() + f"\r\n--{BOUNDARY}--\r\n".encode()


KINDS: dict[str, tuple[str, str, bytes, bytes]] = {
    "health (floor)": ("GET", "/_pixelpact/health", b"", b""),
    "json generation": (
        "POST",
        "/v1/images/generations",
        b"application/json",
        b'{"model":"openai/dall-e-3","prompt":"a red fox in the snow","n":1,"size":"1024x1024"}',
    ),
    "multipart variation": (
        "POST",
        "/v1/images/variations",
        f"multipart/form-data; boundary={BOUNDARY}".encode(),
        multipart_body(),
    ),
}


async def run(app: Any, kind: str, count: int) -> float:
    method, path, ctype, body = KINDS[kind]
    headers = [(b"host", b"127.0.0.1:8080"), (b"content-length", str(len(body)).encode())]
    if ctype:
        headers.append((b"content-type", ctype))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(200):  # warm caches
        await app(dict(scope), receive, send)
    start = time.process_time()
    for _ in range(count):
        await app(dict(scope), receive, send)
    elapsed = time.process_time() - start
    assert statuses == {200}, statuses
    return elapsed / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=5000, help="requests per kind (default 5000)")
    parser.add_argument("--profile", action="store_true", help="print the top functions by own time")
    parser.add_argument("--app", choices=["stub", "bare"], default="stub", help="the stub or bench/bare_app.py")
    args = parser.parse_args()
    app: Any
    if args.app == "bare":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bench.bare_app import app as bare

        app = bare
    else:
        app = create_app()
    for kind in KINDS:
        if args.app == "bare" and kind.startswith("health"):
            continue
        micros = asyncio.run(run(app, kind, args.count))
        print(f"{kind:20} {micros:7.1f} µs CPU per request")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(asyncio.run, run(app, kind, args.count))
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
