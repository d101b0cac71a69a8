"""Fixtures of the Bifrost tier: one Bifrost for this folder, in front of the port the recording upstream takes.

Run the tier alone with `.venv/bin/pytest -m bifrost`. The first run on a machine unpacks the shared build into
~/.cache/pixelpact/bifrost (about 15 s); later runs start at once (Bifrost is ready in about half a second).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bifrost.gateway import ROOT, Gateway, bifrost_gateway
from tests.bifrost.tier import check_command, ensure_binary
from tests.processes import free_port

BASELINE = Path(__file__).parent / "baseline.toml"


@dataclass(frozen=True)
class Tier:
    """The running Bifrost and the port its providers point at (where the recording upstream must listen)."""

    gateway: Gateway
    upstream_port: int


# Package scope, and one `pixelpact check` run per Bifrost: Bifrost keeps its connections to the provider pooled for
# 30 s, and a new recording upstream on the same port would find them dead ("the server closed connection before
# returning the first response byte").
@pytest.fixture(scope="package")
def tier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tier]:
    binary = ensure_binary()
    upstream_port = free_port()
    with bifrost_gateway(binary, upstream_port, tmp_path_factory.mktemp("bifrost")) as gateway:
        yield Tier(gateway, upstream_port)


@dataclass(frozen=True)
class Run:
    """The tier's one `pixelpact check` run: its JSON report, Markdown summary, output and exit status."""

    report: dict[str, Any]
    summary: str
    stdout: str
    stderr: str
    status: int
    seconds: float


@pytest.fixture(scope="package")
def run(tier: Tier, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`pixelpact check` two-sided through Bifrost on every route it serves, against the tier's strict baseline."""
    out = tmp_path_factory.mktemp("check")
    command = [sys.executable, "-m", "pixelpact.conformance.cli", *check_command(tier.gateway.url, tier.upstream_port)]
    command += ["--baseline", str(BASELINE), "--strict-baseline"]
    command += ["--json-report", str(out / "report.json"), "--markdown-report", str(out / "summary.md")]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    seconds = time.monotonic() - started
    assert (out / "report.json").exists(), f"no report (exit {done.returncode}):\n{done.stderr[-2000:]}"
    report = json.loads((out / "report.json").read_text())
    return Run(report, (out / "summary.md").read_text(), done.stdout, done.stderr, done.returncode, seconds)
