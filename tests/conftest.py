"""Shared pytest options and paths for the whole suite, and what a parallel run (pytest-xdist) needs.

The suite runs on pytest-xdist workers (`-n auto --dist loadgroup` in pyproject.toml; `-n 0` runs it in one process).
A fixture of module or package scope is set up once per worker that runs a test using it, so the tests sharing one
(a tier's started gateway, a built wheel, a generated package) are put in one xdist group and run on one worker: the
gateway starts once, as it did before. Every other test goes to whichever worker is free.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.broken.ledger import LEDGER

try:
    from _pytest.nodeid import NodeId  # pytest 9
except ImportError:  # pytest 8: xdist's own hook names the groups
    NodeId = None  # type: ignore[assignment,misc]

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected trees of the generator's golden cases instead of comparing against them",
    )


def shared_fixture_group(item: pytest.Item) -> str | None:
    """The xdist group of a test that uses a package- or module-scoped fixture: the package's, else its module's."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scopes = {definition.scope: definition.baseid for defs in info.name2fixturedefs.values() for definition in defs}
    if "package" in scopes:
        return scopes["package"] or "package"
    if "module" in scopes:
        return item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = shared_fixture_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


class GroupSuffix:
    """Names each grouped test `nodeid@group`, which is how loadgroup's scheduler sees the group.

    xdist's own hook writes `item._nodeid`, which pytest 9 no longer reads (the id is `item._id`): without this the
    groups would be silently ignored and a tier's gateway started on every worker.
    """

    @pytest.hookimpl(trylast=True)  # after xdist's hook: where it worked, the suffix is there already
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if NodeId is None or not getattr(config.option, "loadgroup", False):  # set on the workers of loadgroup
            return
        for item in items:
            names = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group") if mark.args})
            if names and "@" not in item.nodeid.rpartition("]")[2]:
                item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(GroupSuffix(), "pixelpact-xdist-group-suffix")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # The broken gateways' kill-rate ledger travels in the reports: they reach the controller under xdist too.
    LEDGER.merge(report.user_properties)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    LEDGER.summary(terminalreporter)
