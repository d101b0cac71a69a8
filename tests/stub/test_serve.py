"""`pixelpact serve` and `stub_server`: start, print the URL, stop cleanly, say clearly when the port is taken."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pixelpact.generator.runtime import serve
from pixelpact.generator.runtime.config import MIB, StubConfig

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


def test_pacing_options_and_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(serve.API_KEY_ENV, "env-key")
    config = serve.config_from_args(parse("--latency", "200", "--latency", "2000/image", "--rate-limit", "5/min"))
    assert config.api_keys == ("env-key",)
    assert (config.latency_per_request_ms, config.latency_per_image_ms) == (200, 2000)
    assert (config.rate_limit_requests, config.rate_limit_period) == (5, 60)
    assert serve.config_from_args(parse("--api-key", "cli-key")).api_keys == ("cli-key",)  # the option wins
    bounds = serve.config_from_args(parse("--max-header-kb", "8", "--read-timeout", "3", "--idle-timeout", "2"))
    assert (bounds.max_header_bytes, bounds.header_timeout, bounds.body_timeout, bounds.idle_timeout) == (8192, 3, 3, 2)
    monkeypatch.delenv(serve.API_KEY_ENV)
    assert serve.config_from_args(parse()).api_keys == ()


def test_a_malformed_latency_or_rate_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.run(parse("--latency", "fast")) == 2
    assert serve.run(parse("--rate-limit", "5")) == 2
    assert serve.run(parse("--read-timeout", "0")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("pixelpact serve: ") for line in err)


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
        [sys.executable, "-m", "pixelpact.conformance.cli", "serve", "--port", "0", "--fail-model", "dall-e-3"],
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
    try:
        app = serve.app_from_environment()
    finally:
        gc.unfreeze()  # a worker process freezes its start-up objects; this test process goes on
    with serve.stub_server(app=app) as url:
        body = {"model": "dall-e-3", "prompt": "p"}
        assert httpx.post(f"{url}/v1/images/generations", json=body).status_code == 401
        failed = httpx.post(f"{url}/v1/images/generations", json=body, headers={"x-api-key": "k"})
        assert failed.status_code == 429


def test_a_serving_process_freezes_its_start_up_objects(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Out of the garbage collector's reach before serving: a full collection walking them paused every connection
    for 20-60 ms (bench/RESULTS-stub.md, the tail)."""
    import uvicorn

    frozen_when_serving: list[int] = []

    def serving(self: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        frozen_when_serving.append(gc.get_freeze_count())
        raise KeyboardInterrupt  # Ctrl-C: how a server is stopped

    monkeypatch.setattr(uvicorn.Server, "run", serving)
    try:
        assert serve.run(parse("--port", "0")) == 0
        assert frozen_when_serving and frozen_when_serving[0] > 10_000
        gc.unfreeze()
        monkeypatch.setenv(serve.CONFIG_ENV, serve._config_json(StubConfig()))
        serve.app_from_environment()  # what each process of `--workers N` starts with
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def start_serve(*args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """`pixelpact serve --port 0 ARGS`; returns the process and its banner, once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixelpact.conformance.cli", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline()]
    while not lines[-1].lstrip().startswith("recording:"):
        lines.append(proc.stdout.readline())
        assert lines[-1], lines
    url = lines[0].split()[4].rstrip(",")
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/_pixelpact/health")
            return proc, lines
        except httpx.ConnectError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.stderr.read() if proc.stderr else ""


def snippet(lines: list[str], label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in lines if line.strip().startswith(label + ":"))


CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PIXELPACT_"))}


@pytest.mark.parametrize("key", [None, "sk-banner-key"])
def test_the_banner_snippets_run_as_printed(key: str | None) -> None:
    """The Python line, run as printed with the official openai SDK, and the curl line, in a shell; key from env."""
    env = {**CLEAN_ENV, serve.API_KEY_ENV: key} if key else CLEAN_ENV
    proc, lines = start_serve("--access-log", env=env)
    try:
        assert key is None or key not in "".join(lines)  # the key is never printed
        program = snippet(lines, "Python") + "\nprint(client.images.generate(model='dall-e-2', prompt='p').data[0].url)"
        ran = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("http://127.0.0.1:")
        if shutil.which("curl") and shutil.which("sh"):
            shell = subprocess.run(
                ["sh", "-c", snippet(lines, "curl")], env=env, capture_output=True, text=True, timeout=30
            )
            assert shell.returncode == 0 and '"data"' in shell.stdout, shell.stdout
    finally:
        err = stop(proc)
    assert '"POST /v1/images/generations HTTP/1.1" 200' in err  # --access-log logs each request


def test_worker_processes_get_the_http_layer_too() -> None:
    """`--workers 2` pickles the uvicorn config to each worker: the error body and bounds must come along."""
    proc, lines = start_serve("--workers", "2", "--max-header-kb", "4", env=CLEAN_ENV)
    try:
        url = lines[0].split()[4].rstrip(",")
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /_pixelpact/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8192 + b"\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 431 ") and b'"status_code":431' in answer, answer[:300]
    finally:
        stop(proc)
