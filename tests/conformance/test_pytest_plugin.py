"""The pytest plugin, as a team would use it: `pytest --pixelpact-url URL` in a fresh directory (the plugin comes in
through its pytest11 entry point), passing on the stub, failing on a broken gateway without showing the key, and
doing nothing at all without --pixelpact-url."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.conftest import API_KEY

TENANT_TOKEN = "tt-pytest-plugin-3c1d9e0b"
QUICK = ["--pixelpact-group", "properties", "--pixelpact-operation", "createImage", "--pixelpact-max-examples", "2"]


def pytest_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a directory of its own: no project conftest, only what the installed plugin brings."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args]
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300, check=False)


def junit_outcomes(junit: Path) -> dict[str, str]:
    """JUnit testcase name -> "passed" / "failed" / "skipped"."""
    outcome = {}
    for case in ET.parse(junit).iter("testcase"):
        kinds = {child.tag for child in case}
        outcome[case.get("name", "")] = (
            "failed" if "failure" in kinds else "skipped" if "skipped" in kinds else "passed"
        )
    return outcome


def without_images(app: ASGIApp) -> ASGIApp:
    """A broken gateway: every 200 JSON answer loses its images."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Message] = {}

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start["message"] = message
                return
            body = message.get("body", b"")
            if start["message"]["status"] == 200 and body.startswith(b"{"):
                body = json.dumps({**json.loads(body), "data": []}).encode()
            headers = [(k, v) for k, v in start["message"]["headers"] if k.lower() != b"content-length"]
            await send({**start["message"], "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({**message, "body": body, "more_body": False})

        await app(scope, receive, rewrite)

    return gateway


def test_without_the_url_the_plugin_does_nothing(tmp_path: Path) -> None:
    (tmp_path / "test_own.py").write_text("def test_own():\n    assert True\n")

    done = pytest_in(tmp_path, "-v")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "pixelpact::" not in done.stdout and "pixelpact: " not in done.stdout


def test_the_catalogue_runs_as_tests_against_the_stub(stub_url: str, tmp_path: Path) -> None:
    done = pytest_in(
        tmp_path,
        "--pixelpact-url",
        stub_url,
        *QUICK,
        "--pixelpact-seed",
        "4",
        "--junitxml",
        "j.xml",
        "--pixelpact-json-report",
        "report.json",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    # pixelpact's own report beside pytest's JUnit, as `pixelpact check --json-report` writes it
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["verdict"], report["seed"], len(report["requirements"])) == ("pass", 4, 2)
    assert "pixelpact: verdict pass" in done.stdout
    # One testcase per requirement per operation.
    assert junit_outcomes(tmp_path / "j.xml") == {
        "prop-valid-images-match[createImage]": "passed",
        "prop-invalid-rejected[createImage]": "passed",
    }


def test_a_broken_gateway_fails_with_evidence_and_no_key(tmp_path: Path) -> None:
    app = without_images(default_app(StubConfig(api_keys=(API_KEY,))))
    with stub_server(app=app) as url:
        done = pytest_in(
            tmp_path,
            "--pixelpact-url",
            url,
            *QUICK,
            "--pixelpact-api-key",
            API_KEY,
            "--pixelpact-auth",
            "x-api-key",
            "--junitxml",
            "j.xml",
            "--pixelpact-header",
            f"X-Tenant-Token: {TENANT_TOKEN}",
        )

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "FAILED pixelpact::prop-valid-images-match[createImage]" in output
    assert "reproduce: curl" in output and "x-api-key: ***" in output
    # the failure names its finding, and the session ends with one line per finding
    assert "finding: F-" in output and "pixelpact: F-" in output
    # --pixelpact-header reaches every curl line; a token-like header's value never shows
    assert "X-Tenant-Token: ***" in output and TENANT_TOKEN not in output + (tmp_path / "j.xml").read_text()
    assert junit_outcomes(tmp_path / "j.xml")["prop-valid-images-match[createImage]"] == "failed"
    junit = (tmp_path / "j.xml").read_text()
    assert API_KEY not in output and API_KEY not in junit


def test_an_unreachable_gateway_is_a_usage_error(tmp_path: Path) -> None:
    done = pytest_in(tmp_path, "--pixelpact-url", "http://127.0.0.1:9", *QUICK)

    assert done.returncode == 4  # pytest's usage error: nothing was judged
    assert "pixelpact: cannot reach http://127.0.0.1:9" in done.stderr
