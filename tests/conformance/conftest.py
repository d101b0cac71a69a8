"""Fixtures of the conformance suite's own tests: the stub gateway, wrapped gateways, and a credential to leak."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.model import Report
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import stub_server

#: A realistic-looking key; tests assert that no report ever contains it, in any form.
API_KEY = "sk-bf-pixelpact-test-4f1c9a77e2d04b6c"


@pytest.fixture(scope="session")
def stub_url() -> Iterator[str]:
    """One open stub gateway on a real socket, shared by the tests that only read from it."""
    with stub_server() as url:
        yield url


@pytest.fixture(scope="session")
def keyed_stub_url() -> Iterator[str]:
    """A stub gateway that needs API_KEY on every image route."""
    with stub_server(StubConfig(api_keys=(API_KEY,))) as url:
        yield url


def run(base_url: str, **options: object) -> Report:
    """A quick run: fixed seed, modest timeout; options override."""
    settings: dict[str, object] = {"base_url": base_url, "seed": 7, "timeout": 15.0}
    settings.update(options)
    return check(CheckOptions(**settings))  # type: ignore[arg-type]


def failing(report: Report) -> set[tuple[str, str]]:
    return {(result.requirement.id, result.operation_id) for result in report.failed}
