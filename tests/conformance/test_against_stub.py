"""The suite against the stub gateway, which honours the contract: every requirement passes, for several seeds,
in-process (the default `pixelpact check`) and over a real socket to a separate `pixelpact serve` process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.cli.check import exit_status
from pixelpact.conformance.model import Status
from pixelpact.conformance.suite import by_name
from tests.conformance.conftest import API_KEY

BUILTIN_GROUPS = ("valid", "invalid", "robustness", "streaming", "auth")
BUILTIN_REQUIREMENTS = {requirement.id for group in by_name(BUILTIN_GROUPS) for requirement in group.requirements}


@pytest.mark.parametrize("seed", [1, 20261121])
def test_builtin_stub_passes_every_requirement(seed: int) -> None:
    report = check(CheckOptions(seed=seed, groups=BUILTIN_GROUPS))

    assert report.errors == []
    assert report.verdict == "pass", [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    judged = {result.requirement.id for result in report.results if result.status is Status.PASSED}
    # Everything but auth is judged (no --api-key: an open gateway), on every operation it applies to.
    assert judged == BUILTIN_REQUIREMENTS - {"auth-missing-rejected", "auth-wrong-key-rejected", "auth-scheme-accepted"}
    assert set(report.operations) == {r.operation_id for r in report.results}
    assert report.statuses("auth-missing-rejected") == dict.fromkeys(report.operations, Status.NOT_JUDGED)
    assert report.seed == seed
    assert report.requests_sent > 300  # not a token run: every enum value, bound and hostile input is sent
    assert exit_status(report) == 0


@pytest.fixture(scope="module")
def served_stub() -> Iterator[str]:
    """`pixelpact serve` in its own process, needing API_KEY."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pixelpact.conformance.cli", "serve", "--port", "0", "--api-key", API_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "pixelpact stub gateway on http://" in first, first
        yield first.split(" on ", 1)[1].split(",", 1)[0]
    finally:
        process.terminate()
        process.wait(10)


def test_served_stub_passes_over_a_socket_with_auth(served_stub: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixelpact.conformance.cli",
            "check",
            "--base-url",
            served_stub,
            "--api-key",
            API_KEY,
            "--auth",
            "x-api-key",
            "--seed",
            "3",
            *(arg for group in BUILTIN_GROUPS for arg in ("--group", group)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "PASS:" in result.stdout
    assert "0 failed (requirement x operation)" in result.stdout  # with a key, the auth requirements are judged too
    assert "not judged" not in result.stdout.splitlines()[-1]
    assert "auth-wrong-key-rejected" in result.stdout
    assert "auth-scheme-accepted" in result.stdout
    assert API_KEY not in result.stdout + result.stderr
