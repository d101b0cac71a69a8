"""`pixelpact check` as a user meets it: exit statuses 0/1/2, one-line reasons, no tracebacks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.cli import main
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server


def pixelpact(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixelpact.conformance.cli", *args], capture_output=True, text=True, timeout=60
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_target_is_one_line_and_exit_2() -> None:
    port = free_port()  # bound then released: nothing listens there
    result = pixelpact("check", "--base-url", f"http://127.0.0.1:{port}")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"pixelpact check: cannot reach http://127.0.0.1:{port}: Connection refused"
    ]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--operation", "createImag"], "unknown operation 'createImag'; the spec has: createImage,"),
        (["--group", "nope"], "unknown requirement group 'nope'"),
        (["--base-url", "ftp://example.org"], "is not an http(s) URL"),
        (["--timeout", "0"], "pixelpact check: timeout must be positive"),
        (
            ["--base-url", "http://127.0.0.1:9", "--upstream-model-rules", "dall-e-3"],
            "pixelpact check: --upstream-model-rules is for the recording upstream: give --upstream-port too",
        ),
        (["--spec", "/nonexistent/openapi.yaml"], "not a usable spec"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(args: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", *args])

    err = capsys.readouterr().err
    assert status == 2
    assert reason in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["--prefix", "no-equals-sign"], ["--auth", "cookie"], ["--max-requests", "0"]])
def test_argparse_rejects_malformed_options(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", *args])

    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def plain_text_variations(app: ASGIApp) -> ASGIApp:
    """A gateway that answers every variation with a plain-text 500."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/variations"):
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        await app(scope, receive, send)

    return wrapped


@pytest.fixture(scope="module")
def broken_url() -> Iterator[str]:
    with stub_server(app=plain_text_variations(default_app(StubConfig()))) as url:
        yield url


def test_a_failing_requirement_exits_1_and_names_it(
    broken_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "report.json"
    status = main(
        [
            "check",
            "--base-url",
            broken_url,
            "--operation",
            "createImageVariation",
            "--operation",
            "createImage",
            "--group",
            "valid",
            "--seed",
            "1",
            "--json-report",
            str(report_path),
        ]
    )

    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL: " in out
    assert "F-server-error-500  variations: requests end in a 500 server error" in out
    assert "valid-request-accepted, image-array-accepted, unknown-field-tolerated on createImageVariation" in out
    assert "reproduce: curl -sS -X POST" in out
    document = json.loads(report_path.read_text())
    statuses = {(r["id"], r["operation"]): r["status"] for r in document["requirements"]}
    assert statuses[("valid-request-accepted", "createImageVariation")] == "failed"
    assert statuses[("valid-request-accepted", "createImage")] == "passed"  # the other operation is unaffected


def test_max_requests_is_a_hard_budget(stub_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    groups = [arg for group in ("valid", "invalid", "robustness", "streaming") for arg in ("--group", group)]
    status = main(
        ["check", "--base-url", stub_url, "--max-requests", "12", "--seed", "2", "--json-report", str(path), *groups]
    )

    document = json.loads(path.read_text())
    assert document["requests_sent"] == 12
    # a budget-cut run never passes: nothing failed, but most of the selection was not judged
    assert document["verdict"] == "incomplete"
    unjudged = [r for r in document["requirements"] if r["status"] == "not-judged" and r["reason"] == "budget"]
    assert any("--max-requests 12" in r["message"] for r in unjudged)
    assert document["not_judged"]["budget"] == len(unjudged) > 0
    assert status == 3
    assert "INCOMPLETE: " in capsys.readouterr().out


def test_a_reader_that_closes_the_pipe_gets_no_traceback() -> None:
    """`pixelpact requirements | head -0`: the reader is gone before pixelpact writes; it stops quietly (exit 141)."""
    pixelpact = Path(sys.executable).with_name("pixelpact")
    process = subprocess.Popen(
        [str(pixelpact), "requirements", "--markdown"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command has even loaded: every write it makes finds no reader
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
