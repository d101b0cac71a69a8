"""Running the stub gateway: `pixelpact serve`, and `stub_server()` for tests and the conformance suite.

with stub_server(StubConfig(fail_models=frozenset({"dall-e-3"}))) as base_url:
    httpx.post(f"{base_url}/v1/images/generations", json={"model": "dall-e-2", "prompt": "a cat"})
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import errno
import gc
import importlib
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pixelpact.generator.runtime.config import MIB, StubConfig

# uvicorn (and the protocol built on it) is imported where a server starts, not for `pixelpact serve --help`
# (start-up under 0.3 s; tests/packaging/test_startup.py names a heavy import that comes back).
if TYPE_CHECKING:
    from pixelpact.generator.runtime.protocol import StubUvicornConfig


def default_app(config: StubConfig) -> Any:
    """The generated server for `config` (imported late: generated/ is produced from the spec)."""
    # importlib rather than an import statement: generated/ may not exist yet while the generator is being written.
    module = importlib.import_module("pixelpact.generated.server")
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


#: The environment variable `pixelpact check` and `serve` read the API key from.
API_KEY_ENV = "PIXELPACT_API_KEY"
#: How `pixelpact serve --workers N` hands the StubConfig to its worker processes (they import the app afresh).
CONFIG_ENV = "PIXELPACT_STUB_CONFIG"


def app_from_environment() -> Any:
    """The app of one worker process of `pixelpact serve --workers N`: the StubConfig comes as JSON in CONFIG_ENV."""
    raw = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    raw["api_keys"] = tuple(raw.get("api_keys", ()))
    raw["fail_models"] = frozenset(raw.get("fail_models", ()))
    app = default_app(StubConfig(**raw))
    freeze_startup_objects()
    return app


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, pydantic's validators, Starlette's routes: ~50,000 objects) out of the
    garbage collector's reach, in a process that only serves from now on.

    A full collection otherwise walks them all every few thousand requests (the recording's entries live long enough
    to reach the oldest generation): a pause of 20-60 ms during which every connection waits, in the tail of the
    latency. Frozen, a full collection walks what serving made (the recording's ring) and takes a few milliseconds.
    """
    gc.collect()
    gc.freeze()


def _config_json(config: StubConfig) -> str:
    fields = dataclasses.asdict(config)
    fields["api_keys"], fields["fail_models"] = list(config.api_keys), sorted(config.fail_models)
    return json.dumps(fields)


def _log_config(level: str, access_log: bool) -> dict[str, Any]:
    """uvicorn's logging set-up with `level` for its messages and, with `access_log`, one INFO line per request."""
    import uvicorn

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = config["loggers"]["uvicorn.error"]["level"] = level.upper()
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"  # stdout carries the banner
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config


def _uvicorn_config(
    app: Any, config: StubConfig, log_level: str, access_log: bool, workers: int = 1
) -> StubUvicornConfig:
    from pixelpact.generator.runtime.protocol import StubUvicornConfig

    return StubUvicornConfig(
        app,
        stub=config,
        factory=isinstance(app, str),
        workers=workers,
        # Levels are set in log_config: uvicorn's log_level would also set the access logger's, silencing the log.
        log_level=None,
        log_config=_log_config(log_level, access_log),
        access_log=access_log,
        # uvloop when installed (a `pixelpact` dependency on Linux), else asyncio; httptools through StubHttpProtocol.
        loop="auto",
        ws="none",
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
    server = uvicorn.Server(_uvicorn_config(app if app is not None else default_app(config), config, "error", False))
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
        help=f"require this key on every image route (repeatable; default: ${API_KEY_ENV}, which keeps the key out of "
        "the process list); without any, the gateway is open",
    )
    parser.add_argument(
        "--fail-model",
        action="append",
        default=[],
        metavar="MODEL",
        help="make MODEL fail with a provider error (repeatable); requests with fallbacks move on to them",
    )
    parser.add_argument(
        "--model-rules",
        metavar="MODEL",
        help="play a provider model (dall-e-2, dall-e-3, gpt-image-1 ...): refuse what it does not take with OpenAI's "
        "400 invalid_request_error naming the param (default: serve everything the spec allows)",
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
        "--record-max-mb",
        type=float,
        default=16,
        metavar="N",
        help="bytes the recording may hold, in MiB; the oldest requests go first (default: 16)",
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
    wire = parser.add_argument_group("bounds on the wire")
    wire.add_argument(
        "--max-header-kb",
        type=float,
        default=32,
        metavar="N",
        help="answer 414 to a request line, 431 to a head, longer than N KiB (default: 32)",
    )
    wire.add_argument(
        "--read-timeout",
        type=float,
        default=10,
        metavar="S",
        help="answer 408 when a head is not complete S seconds after its first byte, or a body pauses S seconds; "
        "close a connection that sends nothing for S seconds (default: 10)",
    )
    wire.add_argument(
        "--idle-timeout",
        type=float,
        default=5,
        metavar="S",
        help="close a keep-alive connection idle for S seconds between requests (default: 5)",
    )
    slow = parser.add_argument_group("a slow, rate-limited provider")
    slow.add_argument(
        "--latency",
        action="append",
        default=[],
        metavar="MS[/image]",
        help="answer each image request after MS milliseconds (MS or MS/request), or MS per generated image "
        "(MS/image); repeatable, e.g. --latency 200 --latency 2000/image",
    )
    slow.add_argument(
        "--rate-limit",
        metavar="N/s|N/min",
        help="allow N requests per second or minute on image routes; beyond, 429 with Retry-After (per worker)",
    )


def config_from_args(args: argparse.Namespace) -> StubConfig:
    """The StubConfig of `pixelpact serve`'s options; ValueError for a malformed --latency or --rate-limit."""
    from pixelpact.generator.runtime import pacing  # its GatewayError brings starlette and pydantic: not for --help
    from pixelpact.generator.runtime.provider_api import MODELS, rules_for

    if args.model_rules and rules_for(args.model_rules) is None:
        raise ValueError(f"--model-rules: no rules for {args.model_rules!r} (known: {', '.join(MODELS)})")
    latencies = [pacing.parse_latency(text) for text in args.latency]
    rate = pacing.parse_rate(args.rate_limit) if args.rate_limit else (0, 1.0)
    env_key = os.environ.get(API_KEY_ENV, "").strip()
    return StubConfig(
        api_keys=tuple(args.api_key) or ((env_key,) if env_key else ()),
        latency_per_request_ms=sum(per_request for per_request, _ in latencies),
        latency_per_image_ms=sum(per_image for _, per_image in latencies),
        rate_limit_requests=rate[0],
        rate_limit_period=rate[1],
        fail_models=frozenset(args.fail_model),
        fail_status=args.fail_status,
        model_rules=args.model_rules,
        max_body_bytes=int(args.max_body_mb * MIB),
        record_limit=args.record_limit,
        record_max_bytes=int(args.record_max_mb * MIB),
        max_header_bytes=int(args.max_header_kb * 1024),
        header_timeout=args.read_timeout,
        body_timeout=args.read_timeout,
        idle_timeout=args.idle_timeout,
    )


def banner(url: str, config: StubConfig, workers: int, *, key_from_env: bool) -> list[str]:
    """What `pixelpact serve` prints: the URL, the settings, and snippets that run as printed (the key never shown)."""
    keys = f", {len(config.api_keys)} API key(s) required" if config.api_keys else ", open (no API key needed)"
    fail = f", failing: {', '.join(sorted(config.fail_models))} ({config.fail_status})" if config.fail_models else ""
    pace = ""
    if config.latency_per_request_ms or config.latency_per_image_ms:
        pace += f", latency {config.latency_per_request_ms:g} ms + {config.latency_per_image_ms:g} ms/image"
    if config.rate_limit_requests:
        unit = {1.0: "s", 60.0: "min", 3600.0: "h"}.get(config.rate_limit_period, f"{config.rate_limit_period:g}s")
        pace += f", rate limit {config.rate_limit_requests}/{unit}"
    if config.model_rules:
        pace += f", playing {config.model_rules} (refuses what it does not take)"
    several = f", {workers} workers (one recording each)" if workers > 1 else ""
    body = '{"model": "dall-e-2", "prompt": "a red fox", "size": "256x256"}'
    curl = f"curl -s {url}/v1/images/generations -H 'Content-Type: application/json' -d '{body}'"
    if config.api_keys:
        key = f"os.environ['{API_KEY_ENV}']"
        python = f"import os; from openai import OpenAI; client = OpenAI(base_url='{url}/v1', api_key={key})"
        curl += f' -H "Authorization: Bearer ${API_KEY_ENV}"'
    else:
        # The SDK insists on some key; an open gateway ignores it.
        python = f"from openai import OpenAI; client = OpenAI(base_url='{url}/v1', api_key='unused')"
    lines = [
        f"pixelpact stub gateway on {url}{keys}{fail}{pace}{several}",
        f"  Python: {python}",
        f"  curl:   {curl}",
    ]
    if config.api_keys and not key_from_env:
        lines.append(
            f"  (the snippets read the key from ${API_KEY_ENV}; set it there, which also keeps it off the command line)"
        )
    lines.append(f"  recording: {url}/_pixelpact/requests · Ctrl-C stops")
    return lines


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
    if min(args.max_header_kb, args.read_timeout, args.idle_timeout, args.record_max_mb) <= 0:
        print(
            "pixelpact serve: --max-header-kb, --read-timeout, --idle-timeout and --record-max-mb must be positive",
            file=sys.stderr,
        )
        return 2
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"pixelpact serve: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = "the address is already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        print(f"pixelpact serve: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    try:
        app = default_app(config)  # also in the parent with --workers: a broken generated/ fails here, clearly
    except ImportError as exc:
        sock.close()
        print(
            f"pixelpact serve: the generated server cannot be imported ({exc}); run `pixelpact generate`",
            file=sys.stderr,
        )
        return 1
    for line in banner(_url(sock), config, args.workers, key_from_env=not args.api_key):
        print(line, flush=True)
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    try:
        if args.workers > 1:
            os.environ[CONFIG_ENV] = _config_json(config)
            target = f"{__name__}:app_from_environment"
            Multiprocess(
                _uvicorn_config(target, config, "warning", args.access_log, args.workers), sockets=[sock]
            ).run()
        else:
            server = uvicorn.Server(_uvicorn_config(app, config, "warning", args.access_log))
            freeze_startup_objects()
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully, then re-raises the SIGINT it captured; Ctrl-C is how a server is stopped.
        pass
    finally:
        sock.close()
    print("pixelpact serve: stopped", file=sys.stderr)
    return 0
