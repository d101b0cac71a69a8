"""Fixtures of the CI features' tests: a correct stub and a stub with one or two known deviations, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken import toolkit
from tests.conformance.broken.mutants import clamp_n, drop_bad_n


@pytest.fixture(scope="session")
def one_deviation_url() -> Iterator[str]:
    """A stub that accepts n out of range (n-out-of-range-rejected fails): the deviation a baseline records."""
    with stub_server(app=toolkit.on_request(default_app(StubConfig()), clamp_n)) as url:
        yield url


@pytest.fixture(scope="session")
def two_deviations_url() -> Iterator[str]:
    """The same stub that also treats a non-integer n as absent (n-not-integer-rejected fails too): one more."""
    app = toolkit.on_request(toolkit.on_request(default_app(StubConfig()), clamp_n), drop_bad_n)
    with stub_server(app=app) as url:
        yield url
