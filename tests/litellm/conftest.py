"""Fixtures of the LiteLLM tier: the pinned proxy, installed once per machine and started once for this folder.

Run the tier alone with `.venv/bin/pytest -m litellm`. The first run on a machine installs LiteLLM into
~/.cache/pixelpact/litellm-venv (about a minute); later runs reuse it. Without a package index the tier is skipped,
not failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.litellm.proxy import InstallError, Proxy, free_port, install, litellm_proxy


@dataclass(frozen=True)
class Tier:
    """The running proxy and the port its providers point at (where the recording upstream must listen)."""

    proxy: Proxy
    upstream_port: int


# Package scope: the proxy (about 300 MB) stops once this folder's tests are done, not at the end of the session.
@pytest.fixture(scope="package")
def tier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tier]:
    try:
        install()
    except InstallError as exc:
        pytest.skip(f"LiteLLM could not be installed, so the LiteLLM tier is skipped: {exc}")
    upstream_port = free_port()
    log = tmp_path_factory.mktemp("litellm") / "litellm.log"
    # LiteLLM does not contact its providers at start-up, so the upstream can come and go per test module.
    with litellm_proxy(upstream_port, log) as proxy:
        yield Tier(proxy, upstream_port)
