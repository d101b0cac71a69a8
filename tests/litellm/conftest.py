"""Fixtures of the LiteLLM tier: the pinned proxy, installed once per machine and started once for this folder.

Run the tier alone with `.venv/bin/pytest -m litellm`. The first run on a machine installs LiteLLM into
~/.cache/pixelpact/litellm-venv (about a minute); later runs reuse it. When LiteLLM cannot be installed the tier
fails, loudly: a CI where the tier silently vanished would go green without it. Only the user skips it, knowingly,
with PIXELPACT_SKIP_LITELLM=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest

from tests.litellm.proxy import InstallError, Proxy, free_port, install, litellm_proxy


@dataclass(frozen=True)
class Tier:
    """The running proxy and the port its providers point at (where the recording upstream must listen)."""

    proxy: Proxy
    upstream_port: int


#: The opt-out: set to 1 to skip the tier on purpose (no package index, no time); nothing else skips it.
SKIP_ENV = "PIXELPACT_SKIP_LITELLM"


def ensure_installed(environ: Mapping[str, str] = os.environ, installer: Callable[[], object] = install) -> None:
    """Install LiteLLM (once per machine), or fail the tier saying how to opt out; skip only on SKIP_ENV=1."""
    if environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the LiteLLM tier is skipped at the user's request")
    try:
        installer()
    except InstallError as exc:
        pytest.fail(
            f"LiteLLM could not be installed, so the LiteLLM tier cannot run: {exc}\n"
            f"Set {SKIP_ENV}=1 to skip the tier knowingly.",
            pytrace=False,
        )


# Package scope: the proxy (about 300 MB) stops once this folder's tests are done, not at the end of the session.
@pytest.fixture(scope="package")
def tier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tier]:
    ensure_installed()
    upstream_port = free_port()
    log = tmp_path_factory.mktemp("litellm") / "litellm.log"
    # LiteLLM does not contact its providers at start-up, so the upstream can come and go per test module.
    with litellm_proxy(upstream_port, log) as proxy:
        yield Tier(proxy, upstream_port)
