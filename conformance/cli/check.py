"""`pixelpact check`: drive a gateway with the contract's requirements and give a verdict per requirement.

Exit status (the verdict, see pixelpact.conformance.model.Verdict): 0 pass, 1 fail (a requirement failed or is blocked
by a finding), 2 the suite could not judge (bad arguments, an unusable spec, an unreachable target, nothing judged),
3 incomplete (nothing failed, but the budget, the time or an error cut the run short), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pixelpact.conformance.ci import config
from pixelpact.conformance.flags import NOT_IN_FILE, SECRET, SECRET_VALUES, add_arguments, check_options

# The suite is imported when a check runs, not for `--help` or a bad argument (start-up under 0.3 s): only light
# modules at the top here (tests/packaging/test_startup.py names the heavy ones).
if TYPE_CHECKING:
    from pixelpact.conformance.api import CheckOptions
    from pixelpact.conformance.cli.plan import Plan
    from pixelpact.conformance.model import Report


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `pixelpact check`: pixelpact.conformance.flags.FLAGS (the config file's --config, --target and
    --show-config last), each but those settable from the config file."""
    parser.description = (
        "Check an image gateway against the contract (spec/openapi.yaml), requirement by requirement. "
        "Without --base-url the built-in stub gateway is started and checked."
    )
    add_arguments(parser)
    # last: the config file may set every option added above
    config.install(parser, secret=SECRET, not_in_file=NOT_IN_FILE, secret_values=SECRET_VALUES)


def options_from_args(args: argparse.Namespace) -> CheckOptions:
    config.ensure_resolved(args)
    from pixelpact.conformance.api import CheckOptions
    from pixelpact.conformance.reporting import ProgressLine

    return CheckOptions(**check_options(args), listeners=(ProgressLine(sys.stderr),))


def run(args: argparse.Namespace) -> int:
    try:
        resolved = config.resolve(args)
    except config.ConfigError as exc:
        print(f"pixelpact check: {exc}", file=sys.stderr)
        return 2
    if args.show_config:
        print(config.show(resolved))
        return 0
    from pixelpact.conformance.wire.allocator import return_freed_bodies

    return_freed_bodies()  # this process is pixelpact's own: its allocator may be tuned (a plugin's host is not)
    try:
        # The suite is imported here, not for --help: a Ctrl-C while it loads is an interrupted run like any other.
        from pixelpact.conformance.api import CheckError, check
        from pixelpact.conformance.cli.plan import needs_plan, planned_check
        from pixelpact.conformance.engine.upstream import provider_settings
        from pixelpact.conformance.options import upstream_of

        options = options_from_args(args)
    except KeyboardInterrupt:
        return interrupted(args)
    try:
        upstream = upstream_of(options)
        if upstream is not None:
            print(provider_settings(upstream), file=sys.stderr)
        if args.changed_since:
            options.pairs = changed_pairs(args.changed_since, options.spec)
            if not options.pairs:
                print(f"no change of the spec since {args.changed_since} touches a requirement: nothing to check")
                return 0
        if args.plan:
            return print_plan(options, args.json_report)
        report = planned_check(options, announce(options)) if needs_plan(options) else check(options)
    except CheckError as exc:
        print(f"pixelpact check: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C before the requirement groups ran (loading the spec, starting the stub): nothing was judged
        return interrupted(args)
    # A second Ctrl-C must not leave half-written reports behind; writing them takes a moment.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return _finish(report, args)
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupted(args: argparse.Namespace) -> int:
    """Ctrl-C before anything was judged: the reports are still written, saying so (exit 130)."""
    from pixelpact.conformance.model import Report, Verdict
    from pixelpact.conformance.options import public_url

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config.ensure_resolved(args, defaults_if_unusable=True)  # the report paths may come from the config file
    target = public_url(args.base_url) if args.base_url else ""
    return _finish(Report(Verdict.INTERRUPTED, [], 0, 0.0, target=target, interrupted=True), args)


def _finish(report: Report, args: argparse.Namespace) -> int:
    from pixelpact.conformance.model import Verdict
    from pixelpact.conformance.reporting import render, write_reports

    print(render(report, color=sys.stdout.isatty()))
    for line in report.notes:
        print(f"pixelpact check: {line}", file=sys.stderr)
    if report.verdict is Verdict.ERROR and report.errors:
        print(f"pixelpact check: {report.errors[-1]}", file=sys.stderr)
    if report.interrupted:
        print(
            "pixelpact check: interrupted: what was judged so far is reported, the rest is not judged", file=sys.stderr
        )
    try:
        if args.update_baseline and not report.interrupted:
            from pixelpact.conformance.ci import baseline

            written = baseline.updated(baseline.load(args.baseline), report)
            baseline.write(written)
            print(f"wrote {args.baseline} ({len(written.entries)} deviations)", file=sys.stderr)
        for path in write_reports(
            report, junit=args.junit, json_report=args.json_report, html=args.html_report, markdown=args.markdown_report
        ):
            print(f"wrote {path}", file=sys.stderr)
    except OSError as exc:
        print(f"pixelpact check: cannot write a report: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return exit_status(report)


def print_plan(options: CheckOptions, json_report: Path | None) -> int:
    """--plan: print what the run would send (and write it as JSON with --json-report); nothing is sent."""
    from pixelpact.conformance.cli.plan import make_plan, render_plan

    plan = make_plan(options)
    print(render_plan(plan, options.base_url))
    if json_report is not None:
        json_report.write_text(json.dumps({"plan": plan.as_dict()}, indent=2) + "\n")
        print(f"wrote {json_report}", file=sys.stderr)
    return 0


def announce(options: CheckOptions) -> Plan:
    """Plan a run against a gateway off this machine and say what it will spend before the first request."""
    from pixelpact.conformance.cli.plan import make_plan

    plan = make_plan(options, plan_only=False)
    total = plan.total
    print(
        f"plan: profile {plan.profile}, {total['requests']} requests, {total['images']} images "
        f"({total['megapixels']:.1f} megapixels), {total['pairs']} pairs (--plan shows it per group)",
        file=sys.stderr,
    )
    return plan


def changed_pairs(old: str, spec: Path) -> frozenset[tuple[str, str]]:
    """The (requirement, operation) pairs the spec's change since `old` touches, announced on stderr."""
    from pixelpact.conformance.api import CheckError
    from pixelpact.conformance.specdiff.affects import changed_since
    from pixelpact.conformance.specdiff.source import SourceError

    try:
        pairs, changes = changed_since(old, spec)
    except SourceError as exc:
        raise CheckError(f"--changed-since: {exc}") from None
    operations = len({operation for _, operation in pairs})
    print(
        f"--changed-since {old}: {len(changes)} change(s) touch {len(pairs)} pair(s) on {operations} operation(s)",
        file=sys.stderr,
    )
    return pairs


def exit_status(report: Report) -> int:
    """0 pass, 1 fail, 2 nothing could be judged, 3 incomplete (cut short, nothing failed), 130 interrupted."""
    return report.exit_status
