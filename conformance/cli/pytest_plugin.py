"""pytest plugin: `pytest --pixelpact-url URL` runs the conformance catalogue, a test per requirement per operation.

Installed with pixelpact (a `pytest11` entry point), so a team can put a gateway's contract check into its own CI:

    pytest --pixelpact-url http://127.0.0.1:8080 --pixelpact-api-key "$KEY" --junitxml=gateway.xml

The suite runs once, at collection, through `pixelpact.conformance.api.check`; each (requirement, operation) it judged
becomes a test item named `pixelpact::<requirement-id>[<operationId>]` that passes, fails with the evidence (the
redacted curl line, the status and a body excerpt) or is skipped with the reason. Without --pixelpact-url (or
--pixelpact, --pixelpact-target, --pixelpact-config) the plugin only adds its options: it collects nothing and changes
nothing. Its options are check's, from the one table (pixelpact.conformance.flags); the few it does not offer say
why there (`Flag.not_in_pytest`). `--pixelpact-json-report`, `--pixelpact-html-report` and
`--pixelpact-markdown-report` write pixelpact's own reports; pytest's `--junitxml` is the JUnit one.

It reads the config file `pixelpact check` reads (pixelpact.toml or [tool.pixelpact], from the rootdir up): each
--pixelpact-NAME option stands for check's --NAME and wins over the file, so `pytest --pixelpact-target staging` runs
what `pixelpact check --target staging` runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from pixelpact.conformance.flags import add_pytest_options, check_tokens, starts_run

if TYPE_CHECKING:
    from pixelpact.conformance.model import Report, RequirementResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pixelpact", "pixelpact: check an image gateway against the contract (spec/openapi.yaml)")
    # check's own options as --pixelpact-NAME, and the plugin's --pixelpact: one table (pixelpact.conformance.flags)
    add_pytest_options(group.addoption)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pixelpact: a requirement of the image API contract, judged by pixelpact")
    if starts_run(config.getoption):
        config.pluginmanager.register(PixelpactRun(config), "pixelpact-run")


class PixelpactRun:
    """Runs the suite once per session and turns its report into test items."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.report: Report | None = None
        self.shared: str | None = None
        """Under pytest-xdist, the controller's JSON report the workers read."""

    def pytest_report_header(self) -> str:
        where = self.config.getoption("pixelpact_url") or "the gateway of the config file"
        return f"pixelpact: checking {where} against the contract"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Under pytest-xdist the controller runs the suite, once, before the workers start: the workers read its
        report instead of checking the gateway again, so no request is sent twice."""
        if getattr(self.config.option, "dist", "no") == "no" or hasattr(self.config, "workerinput"):
            return
        from pixelpact.conformance.reporting import to_json

        self.report = self._check()
        shared = self.config._tmp_path_factory.mktemp("pixelpact") / "report.json"  # type: ignore[attr-defined]
        shared.write_text(to_json(self.report), encoding="utf-8")
        self.shared = str(shared)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: tell each worker where the controller's report is."""
        if self.shared is not None:
            node.workerinput["pixelpact_report"] = self.shared

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, items: list[pytest.Item]) -> None:
        shared = getattr(self.config, "workerinput", {}).get("pixelpact_report")
        if shared is not None:
            from pixelpact.conformance.ci.merge import read

            self.report = read(Path(shared))  # an xdist worker: the controller ran the suite
        elif self.report is None:
            self.report = self._check()
        collector = PixelpactCollector.from_parent(session, name="pixelpact", nodeid="pixelpact")
        items.extend(collector.items(self.report))

    def _check(self) -> Report:
        """Run the suite and write the reports the options or the config file ask for."""
        from pixelpact.conformance.api import CheckError, check
        from pixelpact.conformance.reporting import write_reports

        args = check_arguments(self.config)
        try:
            report = check(options(self.config, args))
        except CheckError as exc:
            raise pytest.UsageError(f"pixelpact: {exc}") from None
        write_reports(
            report,
            junit=args.junit,
            json_report=args.json_report,
            html=args.html_report,
            markdown=args.markdown_report,
        )
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is not None:
            report = self.report
            terminalreporter.write_line(
                f"pixelpact: verdict {report.verdict}, {report.requests_sent} requests in {report.duration:.1f} s, "
                f"seed {report.seed} (--pixelpact-seed {report.seed} repeats the run)"
            )
            for finding in report.findings:  # one line per root cause, however many items it fails
                terminalreporter.write_line(f"pixelpact: {finding.id}  {finding.title} ({len(finding.pairs)} items)")


def check_arguments(config: pytest.Config) -> argparse.Namespace:
    """`pixelpact check`'s arguments: the --pixelpact-* options given, then the config file, then the defaults.

    Each --pixelpact-NAME option stands for check's --NAME (--pixelpact-url for --base-url), so the plugin and the
    command read one config file the same way and check's parser validates both.
    """
    from pixelpact.conformance.ci import config as config_file
    from pixelpact.conformance.cli.check import configure

    parser = _UsageErrorParser(prog="pytest --pixelpact-...")
    configure(parser)
    args = parser.parse_args(check_tokens(lambda dest: config.getoption(dest, None)))
    try:
        config_file.resolve(args, cwd=config.rootpath)
    except config_file.ConfigError as exc:
        raise pytest.UsageError(f"pixelpact: {exc}") from None
    return args


def options(config: pytest.Config, args: argparse.Namespace | None = None) -> Any:
    """The CheckOptions the command-line options and the config file describe."""
    from pixelpact.conformance.cli.check import options_from_args

    return replace(options_from_args(args or check_arguments(config)), listeners=())


class _UsageErrorParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise pytest.UsageError(f"pixelpact: {message}")


class PixelpactCollector(pytest.Collector):
    """The parent of the requirement items (their node ids read `pixelpact::<id>[<operation>]`)."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        return []

    def items(self, report: Report) -> Iterator[pytest.Item]:
        for result in report.results:
            name = f"{result.requirement.id}[{result.operation_id}]"
            finding = report.finding_of(result)
            yield RequirementItem.from_parent(self, name=name, result=result, finding=finding.id if finding else None)
        for index, error in enumerate(report.errors):
            yield GroupErrorItem.from_parent(self, name=f"group-error-{index + 1}", error=error)


class RequirementFailed(Exception):
    """A requirement failed on an operation; the item's report shows the evidence."""


class RequirementItem(pytest.Item):
    """One requirement on one operation, as the suite judged it."""

    def __init__(self, *, result: RequirementResult, finding: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.finding = finding
        """The id of the finding that explains a failure (pixelpact.conformance.catalogue.findings)."""
        self.add_marker(pytest.mark.pixelpact)

    def runtest(self) -> None:
        from pixelpact.conformance.model import Status

        result = self.result
        if result.status is Status.NOT_JUDGED:
            reason = result.reason.value if result.reason is not None else "not judged"
            pytest.skip(f"not judged ({reason}): {result.message or 'nothing exercised it in this run'}")
        if result.known is not None and result.status in (Status.FAILED, Status.BLOCKED):
            pytest.xfail(f"known deviation ({result.status.value}), in the baseline: {result.known}")
        if result.status is Status.BLOCKED:
            raise RequirementFailed(f"blocked by finding {result.blocked_by}: {result.message}")
        if result.status is Status.FAILED:
            raise RequirementFailed(f"finding {self.finding}: {result.message}" if self.finding else result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, RequirementFailed):
            explained = f"\n  finding: {self.finding}" if self.finding else ""
            return describe_failure(self.result) + explained
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
