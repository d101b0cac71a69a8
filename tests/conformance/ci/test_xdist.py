"""The pytest plugin under pytest-xdist: the controller runs the suite once and the workers share its report, so
the items are spread over the workers and the gateway gets every request once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.test_pytest_plugin import junit_outcomes, pytest_in

pytest.importorskip("xdist")

ARGS = ["--pixelpact-group", "invalid", "--pixelpact-operation", "createImage", "--pixelpact-seed", "4"]


class Counting:
    """The stub, counting the requests it serves on its image routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/images/" in scope["path"]:
            self.count += 1
        await self.app(scope, receive, send)


@pytest.fixture
def counting() -> Iterator[tuple[str, Counting]]:
    app = Counting(default_app(StubConfig()))
    with stub_server(app=app) as url:
        yield url, app


def test_two_workers_share_one_run(counting: tuple[str, Counting], tmp_path: Path) -> None:
    url, gateway = counting
    (tmp_path / "pixelpact.toml").write_text('json-report = "report.json"\n')  # the plugin's reports: in the file

    done = pytest_in(tmp_path, "-n", "2", *ARGS, "--pixelpact-url", url, "--junitxml", "j.xml")

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert gateway.count == report["requests_sent"] > 0  # one run's worth, not one per worker
    outcomes = junit_outcomes(tmp_path / "j.xml")
    assert len(outcomes) == len(report["requirements"]) and set(outcomes.values()) == {"passed"}
    assert "2 workers" in done.stdout
    assert "pixelpact: verdict pass" in done.stdout
