"""Serving broken gateways and running the suite against them; the kill rate is printed at the end of the session
(tests/conftest.py, from the ledger entries each test leaves in its report: see ledger.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from starlette.types import ASGIApp

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.model import Report
from pixelpact.conformance.suite import ALL_GROUPS
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.ledger import Ledger
from tests.conformance.broken.mutants import API_KEY, Mutant
from tests.conformance.broken.relay import Relay, RelayGateway

#: One seed for every run: a mutant killed today is killed tomorrow, and a survivor can be replayed.
SEED = 20261121
#: Examples per operation for the property-based groups: the deterministic probes do the killing, the property groups
#: only need to run.
MAX_EXAMPLES = 3
#: requirement id -> the group that judges it, over every registered group (the property-based ones keep their
#: requirements beside their code, not in conformance/catalogue/requirements.py).
GROUP_OF = {requirement.id: group.name for group in ALL_GROUPS for requirement in group.requirements}


def free_port() -> int:
    """A port nothing listens on now (the suite's recording upstream binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def groups_for(mutant: Mutant) -> tuple[str, ...]:
    """The groups the mutant names, else the groups of the requirements that kill it."""
    return mutant.groups or tuple(sorted({GROUP_OF[requirement_id] for requirement_id in mutant.kills}))


def options_for(mutant: Mutant, base_url: str) -> CheckOptions:
    """Only the operations and requirement groups the mutant needs, so the whole catalogue runs in a few minutes."""
    return CheckOptions(
        base_url=base_url,
        operations=mutant.operations,
        groups=groups_for(mutant),
        api_key=API_KEY if mutant.api_keys else None,
        seed=SEED,
        max_examples=MAX_EXAMPLES,
        timeout=10.0,
        concurrency=2,
        upstream_port=free_port() if mutant.relay else None,
    )


def gateway(mutant: Mutant, options: CheckOptions, *, correct: bool = False) -> ASGIApp:
    """The gateway `mutant` breaks, broken by it unless `correct`: a fresh stub (own recording, own state) or, for a
    relay mutant, a relay gateway in front of the recording upstream the suite starts on options.upstream_port."""
    if mutant.relay is not None:
        return RelayGateway(f"http://127.0.0.1:{options.upstream_port}", Relay() if correct else mutant.relay)
    app: ASGIApp = default_app(StubConfig(api_keys=mutant.api_keys))
    return app if correct else mutant.wrap(app)


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    """This test's entries of the kill-rate ledger; they reach the session's LEDGER through the test's report."""
    own = Ledger()
    yield own
    request.node.user_properties.extend(own.properties())


@pytest.fixture(scope="session")
def run_against() -> Callable[[ASGIApp, CheckOptions], Report]:
    """Serve an app on 127.0.0.1 (ephemeral port) and run the suite against it through the Python API.

    The drop-the-connection mutants make uvicorn log "ASGI callable returned without completing response": expected.
    """

    def run(app: ASGIApp, options: CheckOptions) -> Report:
        with stub_server(app=app) as base_url:
            options.base_url = base_url
            return check(options)

    return run
