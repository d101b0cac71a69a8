"""CPU time and Python function calls per request through the stub's HTTP layer and app, without sockets.

    .venv/bin/python bench/stub_wire_profile.py                    # StubHttpProtocol (what `pixelpact serve` runs)
    .venv/bin/python bench/stub_wire_profile.py --protocol stock   # uvicorn's HttpToolsProtocol, for comparison
    .venv/bin/python bench/stub_wire_profile.py --app bare --protocol stock   # bench/bare_app.py: the framework's limit

Like bench/stub_profile.py, but each request goes in as raw bytes through the uvicorn protocol (httptools parsing,
the ASGI cycle, the response written to a transport that keeps nothing), on one keep-alive connection. CPU time
(time.process_time) is inflated by other load only a little; the count of Python function calls (cProfile) is
deterministic, so it compares two versions exactly even on a busy machine. Run it from an older checkout (with
--protocol stock when that checkout has no StubHttpProtocol) to compare before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from bench.bare_app import app as bare_app  # noqa: E402
from bench.stub_profile import KINDS  # noqa: E402
from pixelpact.generated.server import create_app  # noqa: E402


class NullTransport(asyncio.Transport):
    """A transport that accepts every write and keeps nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def raw_request(kind: str) -> bytes:
    method, path, ctype, body = KINDS[kind]
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: {len(body)}\r\n".encode()
    if ctype:
        head += b"Content-Type: " + ctype + b"\r\n"
    return head + b"\r\n" + body


def protocol(kind_of_protocol: str, which_app: str) -> Any:
    app: Any = bare_app if which_app == "bare" else create_app()
    if kind_of_protocol == "stub":
        from pixelpact.generator.runtime.config import StubConfig
        from pixelpact.generator.runtime.protocol import StubUvicornConfig

        config: uvicorn.Config = StubUvicornConfig(app, stub=StubConfig(), lifespan="off", log_level="error")
        config.load()
        return config.http_protocol_class(config=config, server_state=ServerState(), app_state={})  # type: ignore[call-arg]
    config = uvicorn.Config(app, http="httptools", lifespan="off", log_level="error")
    config.load()
    return HttpToolsProtocol(config=config, server_state=ServerState(), app_state={})


async def serve(kind_of_protocol: str, which_app: str, kind: str, count: int) -> float:
    proto = protocol(kind_of_protocol, which_app)
    proto.connection_made(NullTransport())
    data = raw_request(kind)
    for _ in range(200):  # warm caches
        proto.data_received(data)
        while not proto.cycle.response_complete:
            await asyncio.sleep(0)
    start = time.process_time()
    for _ in range(count):
        proto.data_received(data)
        while not proto.cycle.response_complete:
            await asyncio.sleep(0)
    elapsed = time.process_time() - start
    proto.connection_lost(None)
    return elapsed / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--protocol", choices=["stub", "stock"], default="stub")
    parser.add_argument("--count", type=int, default=3000, help="requests per kind and round (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported (default 3)")
    parser.add_argument(
        "--app", choices=["stub", "bare"], default="stub", help="the generated stub, or bench/bare_app.py (no health)"
    )
    args = parser.parse_args()
    for kind in KINDS:
        if args.app == "bare" and kind.startswith("health"):
            continue  # the bare app has no health route
        micros = statistics.median(
            asyncio.run(serve(args.protocol, args.app, kind, args.count)) for _ in range(args.rounds)
        )
        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, serve(args.protocol, args.app, kind, 1000))
        calls = pstats.Stats(profiler).total_calls / 1200  # type: ignore[attr-defined]
        print(
            f"{args.app:4} {args.protocol:5} {kind:20} {micros:7.1f} µs CPU per request, "
            f"{calls:6.1f} function calls per request"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
