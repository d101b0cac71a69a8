"""Running the stub gateway: `pixelpact serve`, and `stub_server()` for tests and the conformance suite.

with stub_server(StubConfig(fail_models=frozenset({"dall-e-3"}))) as base_url:
    httpx.post(f"{base_url}/v1/images/generations", json={"model": "dall-e-2", "prompt": "a cat"})
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import importlib
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from generator.runtime.config import MIB, StubConfig

# uvicorn is imported where a server starts, not for `pixelpact serve --help` (start-up under 0.3 s).
if TYPE_CHECKING:
    import uvicorn


def default_app(config: StubConfig) -> Any:
    """The generated server for `config` (imported late: generated/ is produced from the spec)."""
    # importlib rather than an import statement: generated/ may not exist yet while the generator is being written.
    module = importlib.import_module("generated.server")
    return module.create_app(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises OSError (EADDRINUSE ...) so callers can say what went wrong."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it every
    # response written in two pieces (headers, body) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


#: How `pixelpact serve --workers N` hands the StubConfig to its worker processes (they import the app afresh).
CONFIG_ENV = "PIXELPACT_STUB_CONFIG"


def app_from_environment() -> Any:
    """The app of one worker process of `pixelpact serve --workers N`: the StubConfig comes as JSON in CONFIG_ENV."""
    raw = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    raw["api_keys"] = tuple(raw.get("api_keys", ()))
    raw["fail_models"] = frozenset(raw.get("fail_models", ()))
    return default_app(StubConfig(**raw))


def _config_json(config: StubConfig) -> str:
    fields = dataclasses.asdict(config)
    fields["api_keys"], fields["fail_models"] = list(config.api_keys), sorted(config.fail_models)
    return json.dumps(fields)


def _uvicorn_config(app: Any, log_level: str, access_log: bool, workers: int = 1) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        # uvloop / httptools when installed (the `pixelpact` dependencies pull them in on Linux), else pure Python.
        loop="auto",
        http="auto",
        lifespan="off",
        server_header=False,
        date_header=False,
    )


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@contextmanager
def stub_server(
    config: StubConfig | None = None, host: str = "127.0.0.1", port: int = 0, *, app: Any = None
) -> Iterator[str]:
    """Run the stub gateway on a real socket in a background thread; yields its base URL, e.g. http://127.0.0.1:41234.

    port 0 picks a free port. `app` replaces the generated server (any ASGI app). The server stops on exit.
    """
    import uvicorn

    config = config or StubConfig()
    sock = bind(host, port)
    # "error": uvicorn warns about every malformed HTTP request, which robustness checks send on purpose.
    server = uvicorn.Server(_uvicorn_config(app if app is not None else default_app(config), "error", False))
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"pixelpact-stub-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    try:
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"the stub gateway did not start: {failure[0] if failure else 'thread ended'}")
            thread.join(0.01)
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `pixelpact serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one (default: 8080)")
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="require this key on every image route (repeatable); without any, the gateway is open",
    )
    parser.add_argument(
        "--fail-model",
        action="append",
        default=[],
        metavar="MODEL",
        help="make MODEL fail with a provider error (repeatable); requests with fallbacks move on to them",
    )
    parser.add_argument(
        "--fail-status", type=int, default=503, metavar="N", help="HTTP status of a failing model (default: 503)"
    )
    parser.add_argument(
        "--max-body-mb", type=float, default=25, metavar="N", help="answer 413 to bodies above N MiB (default: 25)"
    )
    parser.add_argument(
        "--record-limit", type=int, default=1000, metavar="N", help="requests kept in the recording (default: 1000)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (default: 1). More serve more requests per second on several cores, but each keeps "
        "its own recording, so a test that reads /_pixelpact/requests needs 1",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request to stderr")


def config_from_args(args: argparse.Namespace) -> StubConfig:
    return StubConfig(
        api_keys=tuple(args.api_key),
        fail_models=frozenset(args.fail_model),
        fail_status=args.fail_status,
        max_body_bytes=int(args.max_body_mb * MIB),
        record_limit=args.record_limit,
    )


def run(args: argparse.Namespace) -> int:
    """`pixelpact serve`: run until Ctrl-C; 2 for bad options, 1 if the address cannot be used."""
    if not 400 <= args.fail_status <= 599:
        print(
            f"pixelpact serve: --fail-status must be an HTTP error status (400-599), not {args.fail_status}",
            file=sys.stderr,
        )
        return 2
    if args.max_body_mb <= 0 or not 0 <= args.port <= 65535 or args.workers < 1:
        print("pixelpact serve: --max-body-mb and --workers must be positive, --port within 0-65535", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = "the address is already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        print(f"pixelpact serve: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    config = config_from_args(args)
    try:
        app = default_app(config)  # also in the parent with --workers: a broken generated/ fails here, clearly
    except ImportError as exc:
        sock.close()
        print(
            f"pixelpact serve: the generated server cannot be imported ({exc}); run `pixelpact generate`",
            file=sys.stderr,
        )
        return 1
    keys = f", {len(config.api_keys)} API key(s) required" if config.api_keys else ", open (no API key needed)"
    fail = f", failing: {', '.join(sorted(config.fail_models))} ({config.fail_status})" if config.fail_models else ""
    workers = f", {args.workers} workers (one recording each)" if args.workers > 1 else ""
    url = _url(sock)
    print(f"pixelpact stub gateway on {url}{keys}{fail}{workers}", flush=True)
    print(
        f"  OpenAI SDK: OpenAI(base_url='{url}/v1') · recording: {url}/_pixelpact/requests · Ctrl-C stops", flush=True
    )
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    try:
        if args.workers > 1:
            os.environ[CONFIG_ENV] = _config_json(config)
            target = f"{__name__}:app_from_environment"
            Multiprocess(_uvicorn_config(target, "warning", args.access_log, args.workers), sockets=[sock]).run()
        else:
            uvicorn.Server(_uvicorn_config(app, "warning", args.access_log)).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the SIGINT it captured; Ctrl-C is how a server is stopped.
        pass
    finally:
        sock.close()
    print("pixelpact serve: stopped", file=sys.stderr)
    return 0
