"""Fixtures of the stub gateway tests: the app under test, running stubs on real sockets, tiny real images."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from pixelpact.generated.server import create_app
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import stub_server

AppFactory = Callable[[StubConfig | None], Any]


@pytest.fixture(scope="session")
def app_factory() -> AppFactory:
    """The generated server: the runtime is tested behind the routes and models generated from the spec."""
    return create_app


@pytest.fixture(scope="session")
def stub_url(app_factory: AppFactory) -> Iterator[str]:
    """An open stub with default settings, shared by the session (tests clear the recording when they read it)."""
    with stub_server(app=app_factory(StubConfig())) as url:
        yield url


@pytest.fixture(scope="session")
def client(stub_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stub_url, timeout=30) as c:
        yield c


@pytest.fixture
def run_stub(app_factory: AppFactory) -> Callable[[StubConfig], Any]:
    """Start a stub with a given config for one test: `with run_stub(config) as url: ...`."""

    def start(config: StubConfig) -> Any:
        return stub_server(config, app=app_factory(config))

    return start


def png(width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 30), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()
