"""pytest plugin: `pytest --pixelpact-url URL` runs the conformance catalogue, a test per requirement per operation.

Installed with pixelpact (a `pytest11` entry point), so a team can put a gateway's contract check into its own CI:

    pytest --pixelpact-url http://127.0.0.1:8080 --pixelpact-api-key "$KEY" --junitxml=gateway.xml

The suite runs once, at collection, through `conformance.api.check`; each (requirement, operation) it judged becomes
a test item named `pixelpact::<requirement-id>[<operationId>]` that passes, fails with the evidence (the redacted
curl line, the status and a body excerpt) or is skipped with the reason. Without --pixelpact-url the plugin only
adds its options: it collects nothing and changes nothing in a test run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.model import Report, RequirementResult

AUTH_SCHEMES = ("bearer", "basic", "x-bf-vk", "x-api-key", "api-key")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pixelpact", "pixelpact: check an image gateway against the contract (spec/openapi.yaml)")
    group.addoption("--pixelpact-url", metavar="URL", help="the gateway to check; without it the plugin does nothing")
    group.addoption("--pixelpact-api-key", metavar="KEY", help="the gateway key (never shown in any output)")
    group.addoption("--pixelpact-auth", choices=AUTH_SCHEMES, default="bearer", help="how the key is sent")
    group.addoption(
        "--pixelpact-operation", metavar="OPID", action="append", default=[], help="check only this operationId"
    )
    group.addoption("--pixelpact-group", metavar="NAME", action="append", default=[], help="run only this group")
    group.addoption(
        "--pixelpact-requirement", metavar="ID", action="append", default=[], help="judge only these ids (globs)"
    )
    group.addoption(
        "--pixelpact-exclude-requirement", metavar="ID", action="append", default=[], help="do not judge these (globs)"
    )
    group.addoption("--pixelpact-model", help="model to request (default: the spec's example)")
    group.addoption("--pixelpact-deployment", help="Azure deployment id (default: the model name)")
    group.addoption("--pixelpact-api-version", help="Azure api-version (default: the spec's example)")
    group.addoption(
        "--pixelpact-prefix",
        metavar="SPEC=GATEWAY",
        action="append",
        default=[],
        help="map a spec route prefix onto the gateway's, e.g. /openai/openai/deployments=/openai/deployments",
    )
    group.addoption("--pixelpact-seed", type=int, help="seed of the run (default: random, shown in the header)")
    group.addoption("--pixelpact-max-examples", type=int, default=10, help="examples per operation (default: 10)")
    group.addoption("--pixelpact-timeout", type=float, default=30.0, help="seconds per request (default: 30)")
    group.addoption("--pixelpact-concurrency", type=int, default=4, help="requests in flight (default: 4)")
    group.addoption("--pixelpact-max-requests", type=int, help="a budget of requests (default: none)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pixelpact: a requirement of the image API contract, judged by pixelpact")
    if config.getoption("pixelpact_url"):
        config.pluginmanager.register(PixelpactRun(config), "pixelpact-run")


class PixelpactRun:
    """Runs the suite once per session and turns its report into test items."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.report: Report | None = None

    def pytest_report_header(self) -> str:
        return f"pixelpact: checking {self.config.getoption('pixelpact_url')} against the contract"

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        from conformance.api import CheckError, check

        try:
            self.report = check(options(self.config))
        except CheckError as exc:
            raise pytest.UsageError(f"pixelpact: {exc}") from None
        collector = PixelpactCollector.from_parent(session, name="pixelpact", nodeid="pixelpact")
        items.extend(collector.items(self.report))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is not None:
            report = self.report
            terminalreporter.write_line(
                f"pixelpact: verdict {report.verdict}, {report.requests_sent} requests in {report.duration:.1f} s, "
                f"seed {report.seed} (--pixelpact-seed {report.seed} repeats the run)"
            )


def options(config: pytest.Config) -> Any:
    """The CheckOptions the command-line options describe."""
    from conformance.api import CheckOptions

    prefixes = []
    for text in config.getoption("pixelpact_prefix"):
        spec, sep, gateway = text.partition("=")
        if not sep:
            raise pytest.UsageError(f"--pixelpact-prefix expects SPEC=GATEWAY, got {text!r}")
        prefixes.append((spec.rstrip("/"), gateway.rstrip("/")))
    return CheckOptions(
        base_url=config.getoption("pixelpact_url"),
        operations=tuple(config.getoption("pixelpact_operation")),
        groups=tuple(config.getoption("pixelpact_group")),
        api_key=config.getoption("pixelpact_api_key") or None,
        auth=config.getoption("pixelpact_auth"),
        model=config.getoption("pixelpact_model"),
        deployment=config.getoption("pixelpact_deployment"),
        api_version=config.getoption("pixelpact_api_version"),
        prefixes=tuple(prefixes),
        seed=config.getoption("pixelpact_seed"),
        max_examples=config.getoption("pixelpact_max_examples"),
        timeout=config.getoption("pixelpact_timeout"),
        concurrency=config.getoption("pixelpact_concurrency"),
        max_requests=config.getoption("pixelpact_max_requests"),
        requirements=tuple(config.getoption("pixelpact_requirement")),
        exclude_requirements=tuple(config.getoption("pixelpact_exclude_requirement")),
    )


class PixelpactCollector(pytest.Collector):
    """The parent of the requirement items (their node ids read `pixelpact::<id>[<operation>]`)."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return []

    def items(self, report: Report) -> Iterator[pytest.Item]:
        for result in report.results:
            name = f"{result.requirement.id}[{result.operation_id}]"
            yield RequirementItem.from_parent(self, name=name, result=result)
        for index, error in enumerate(report.errors):
            yield GroupErrorItem.from_parent(self, name=f"group-error-{index + 1}", error=error)


class RequirementFailed(Exception):
    """A requirement failed on an operation; the item's report shows the evidence."""


class RequirementItem(pytest.Item):
    """One requirement on one operation, as the suite judged it."""

    def __init__(self, *, result: RequirementResult, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.add_marker(pytest.mark.pixelpact)

    def runtest(self) -> None:
        from conformance.model import Status

        result = self.result
        if result.status is Status.NOT_JUDGED:
            reason = result.reason.value if result.reason is not None else "not judged"
            pytest.skip(f"not judged ({reason}): {result.message or 'nothing exercised it in this run'}")
        if result.status is Status.BLOCKED:
            raise RequirementFailed(f"blocked by finding {result.blocked_by}: {result.message}")
        if result.status is Status.FAILED:
            raise RequirementFailed(result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RequirementFailed):
            return describe_failure(self.result)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        requirement = self.result.requirement
        return "pixelpact", None, f"{requirement.id} on {self.result.operation_id}: {requirement.title}"


class GroupErrorItem(pytest.Item):
    """A requirement group that stopped on an internal error: the run could not judge everything."""

    def __init__(self, *, error: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise RequirementFailed(self.error)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"pixelpact could not judge everything: {self.error}"

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "pixelpact", None, self.name


def describe_failure(result: RequirementResult) -> str:
    """The failure as a person reads it: the requirement, where it comes from, and each failing exchange."""
    requirement = result.requirement
    lines = [
        f"{requirement.id} ({requirement.severity.value}) failed on {result.operation_id}: {requirement.title}",
        f"  source: {requirement.source}",
        f"  {result.failed} failing, {result.passed} passing observations",
    ]
    for observation in result.failures:
        lines.append(f"- {observation.message}")
        exchange = observation.exchange
        if exchange is None:
            continue
        lines.append(f"  reproduce: {exchange.curl}")
        got = f"status {exchange.status}" if exchange.status is not None else f"no response ({exchange.error})"
        lines.append(f"  got: {got}")
        if exchange.body_excerpt:
            lines.append(f"  body: {exchange.body_excerpt[:600]}")
    return "\n".join(lines)
