"""`pixelpact serve` and `stub_server`: start, print the URL, stop cleanly, say clearly when the port is taken."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from generator.runtime import serve
from generator.runtime.config import MIB, StubConfig

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.configure(parser)
    return parser.parse_args(list(argv))


def test_options_become_a_config() -> None:
    args = parse("--api-key", "a", "--api-key", "b", "--fail-model", "m", "--fail-status", "429", "--max-body-mb", "2")
    assert serve.config_from_args(args) == StubConfig(
        api_keys=("a", "b"), fail_models=frozenset({"m"}), fail_status=429, max_body_bytes=2 * MIB
    )


def test_a_taken_port_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve.run(parse("--port", str(port))) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"pixelpact serve: cannot listen on 127.0.0.1:{port}: the address is already in use"


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.run(parse("--fail-status", "200")) == 2
    assert "--fail-status" in capsys.readouterr().err


def test_stub_server_serves_then_frees_its_port() -> None:
    with serve.stub_server() as url:  # the generated server by default
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/_pixelpact/health").json() == {"status": "ok"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_pixelpact/health")


def test_pixelpact_serve_prints_its_url_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve", "--port", "0", "--fail-model", "dall-e-3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("pixelpact stub gateway on http://127.0.0.1:"), line
        url = line.split()[4].rstrip(",")
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.post(f"{url}/v1/images/generations", json={"model": "dall-e-3", "prompt": "p"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.status_code == 503
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_listening_socket_says_tcp_so_asyncio_sets_nodelay() -> None:
    # With proto 0 asyncio skips TCP_NODELAY and every response waits ~40 ms for a delayed ACK (measured: 22 req/s).
    sock = serve.bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_worker_processes_get_the_same_config(monkeypatch: pytest.MonkeyPatch) -> None:
    config = StubConfig(api_keys=("k",), fail_models=frozenset({"dall-e-3"}), fail_status=429, max_body_bytes=MIB)
    monkeypatch.setenv(serve.CONFIG_ENV, serve._config_json(config))
    with serve.stub_server(app=serve.app_from_environment()) as url:
        body = {"model": "dall-e-3", "prompt": "p"}
        assert httpx.post(f"{url}/v1/images/generations", json=body).status_code == 401
        failed = httpx.post(f"{url}/v1/images/generations", json=body, headers={"x-api-key": "k"})
        assert failed.status_code == 429
