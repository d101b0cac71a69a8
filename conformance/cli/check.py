"""`pixelpact check`: drive a gateway with the contract's requirements and give a verdict per requirement.

Exit status (the verdict, see pixelpact.conformance.model.Verdict): 0 pass, 1 fail (a requirement failed or is blocked
by a finding), 2 the suite could not judge (bad arguments, an unusable spec, an unreachable target, nothing judged),
3 incomplete (nothing failed, but the budget, the time or an error cut the run short), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pixelpact.conformance.ci import config
from pixelpact.conformance.engine.profiles import PROFILES
from pixelpact.conformance.wire.headers import HeaderError, parse_header
from pixelpact.conformance.wire.limits import MAX_BODY
from pixelpact.conformance.wire.ratelimit import parse_rate
from pixelpact.conformance.wire.schemes import AUTH_SCHEMES
from pixelpact.generator.loader import DEFAULT_SPEC

# The suite is imported when a check runs, not for `--help` or a bad argument (start-up under 0.3 s): only light
# modules at the top here (tests/packaging/test_startup.py names the heavy ones).
if TYPE_CHECKING:
    from pixelpact.conformance.api import CheckOptions
    from pixelpact.conformance.cli.plan import Plan
    from pixelpact.conformance.model import Report
    from pixelpact.conformance.scope.sharding import Shard

API_KEY_ENV = "PIXELPACT_API_KEY"


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `pixelpact check`."""
    parser.description = (
        "Check an image gateway against the contract (spec/openapi.yaml), requirement by requirement. "
        "Without --base-url the built-in stub gateway is started and checked."
    )
    target = parser.add_argument_group("target")
    target.add_argument("--base-url", metavar="URL", help="the gateway to check (default: the built-in stub)")
    target.add_argument(
        "--operation",
        metavar="OPID",
        action="append",
        default=[],
        help="check only this operationId (repeatable; default: every operation of the spec)",
    )
    target.add_argument(
        "--group",
        metavar="NAME",
        action="append",
        default=[],
        help="run only this requirement group (repeatable; default: all)",
    )
    target.add_argument(
        "--requirement",
        metavar="ID",
        action="append",
        default=[],
        help="judge only requirements matching this id or glob, e.g. 'stream-*' (repeatable; default: all; "
        "`pixelpact requirements` lists them)",
    )
    target.add_argument(
        "--exclude-requirement",
        metavar="ID",
        action="append",
        default=[],
        help="do not judge requirements matching this id or glob (repeatable)",
    )
    target.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get(API_KEY_ENV),
        help=f"the key the gateway needs; enables the auth requirements (default: ${API_KEY_ENV}, which keeps the "
        "key out of the process list)",
    )
    target.add_argument(
        "--auth",
        choices=AUTH_SCHEMES,
        default="bearer",
        help="how the key is sent (default: bearer); basic takes KEY as user:password, or as the password alone",
    )
    target.add_argument("--model", help="model to request (default: the spec's example model)")
    target.add_argument("--deployment", help="Azure deployment id (default: the model name without its provider)")
    target.add_argument("--api-version", help="Azure api-version query (default: the spec's example)")
    target.add_argument(
        "--prefix",
        metavar="SPEC=GATEWAY",
        action="append",
        default=[],
        type=_prefix,
        help="serve the spec's route prefix SPEC at GATEWAY, e.g. "
        "/openai/openai/deployments=/openai/deployments (repeatable)",
    )
    target.add_argument(
        "--header",
        metavar='"NAME: VALUE"',
        action="append",
        default=[],
        type=_header,
        help="send this header on every request to the gateway (repeatable); values of credential-like headers "
        "(authorization, cookie, *key*, *token*, *secret*, *auth*, x-bf-vk) never appear in any output",
    )
    target.add_argument(
        "--secret-header",
        metavar="NAME",
        action="append",
        default=[],
        help="treat this --header's value as a secret too: redacted from every output (repeatable)",
    )
    target.add_argument(
        "--spec",
        metavar="PATH",
        type=Path,
        default=DEFAULT_SPEC,
        help="the contract (default: the spec shipped with pixelpact)",
    )
    target.add_argument(
        "--changed-since",
        metavar="OLD",
        help="check only the requirements x operations the spec's change since OLD touches (a file, git:REF:PATH, "
        "or a git ref of --spec); see `pixelpact diff`",
    )
    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=int, help="seed of the run (default: random, printed so it can be repeated)")
    run.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        help="how deep the run goes: quick judges every pair once at the least cost, standard sends every value the "
        "suite knows, deep adds schemathesis's coverage phase and more examples (default: deep for the built-in stub "
        "and loopback targets, quick for any other host)",
    )
    run.add_argument(
        "--max-examples",
        type=_positive,
        metavar="N",
        help="examples per operation for the property-based groups (default: the profile's, 2 / 5 / 10)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds per request, all of it: connect, headers, the whole body or stream; per image for a request "
        "asking for several (default: %(default)s)",
    )
    run.add_argument(
        "--concurrency", type=_positive, default=4, metavar="N", help="requests in flight (default: %(default)s)"
    )
    run.add_argument(
        "--max-time",
        type=_seconds,
        metavar="SECONDS",
        help="a time limit for the whole run: what is left when it runs out is not judged (time), exit 3",
    )
    run.add_argument(
        "--max-body-mb",
        type=_positive,
        default=MAX_BODY // 2**20,
        metavar="MB",
        help="read at most MB MiB of a response; a larger one is a failure, and is not read at all when its "
        "Content-Length says so (default: %(default)s)",
    )
    run.add_argument(
        "--max-requests",
        type=_positive,
        metavar="N",
        help="a budget: send at most N requests (a paid provider charges per image)",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        type=_shard,
        help="run shard K of N (a CI matrix spreads one run over N machines; `pixelpact merge-reports` joins them)",
    )
    run.add_argument(
        "--max-images",
        type=_positive,
        metavar="N",
        help="a budget: ask providers for at most N images (n per request on the image routes); like --max-requests "
        "it is spent breadth first, every pair's cheapest exchange before any depth",
    )
    run.add_argument(
        "--rate-limit",
        type=_rate,
        metavar="N/s|N/min",
        help="send at most N requests per second or minute; a 429 is waited out (Retry-After) and retried, and ends "
        "as not judged (rate-limited) if it persists",
    )
    run.add_argument(
        "--plan",
        action="store_true",
        help="print what the run would send (requests, images, megapixels, the pairs each judges) and send nothing",
    )
    upstream = run.add_mutually_exclusive_group()
    upstream.add_argument(
        "--upstream",
        metavar="HOST:PORT",
        help="run the stub as a recording upstream on HOST:PORT and check the forwarding side",
    )
    upstream.add_argument("--upstream-port", metavar="PORT", type=_positive, help="the same on 127.0.0.1:PORT")
    run.add_argument(
        "--upstream-model-rules",
        metavar="MODEL",
        help="the recording upstream plays this provider model (dall-e-2, dall-e-3, gpt-image-1 ...): it refuses what "
        "the model does not take with OpenAI's 400 invalid_request_error, so the report shows where a refusal came "
        "from (default: it serves everything the spec allows)",
    )
    known = parser.add_argument_group("baseline")
    known.add_argument(
        "--baseline",
        metavar="FILE",
        type=Path,
        help="a TOML file of known deviations, each with why: they are reported, but only new failures fail the run",
    )
    known.add_argument(
        "--strict-baseline", action="store_true", help="fail while the baseline lists a deviation that is fixed"
    )
    known.add_argument(
        "--update-baseline",
        action="store_true",
        help="rewrite the baseline: drop what is fixed, add new failures (edit their why); the verdict is judged "
        "against the file as it was",
    )
    reports = parser.add_argument_group("reports")
    reports.add_argument(
        "--junit", metavar="PATH", type=Path, help="write JUnit XML (a testcase per requirement per operation)"
    )
    reports.add_argument("--json-report", metavar="PATH", type=Path, help="write the JSON report")
    reports.add_argument("--html-report", metavar="PATH", type=Path, help="write a self-contained HTML report")
    reports.add_argument(
        "--markdown-report",
        metavar="PATH",
        type=Path,
        help="write a Markdown summary for a CI job summary or a pull-request comment (links to --html-report)",
    )
    # last: the config file may set every option added above
    config.install(parser)


def options_from_args(args: argparse.Namespace) -> CheckOptions:
    config.ensure_resolved(args)
    from pixelpact.conformance.api import CheckOptions
    from pixelpact.conformance.reporting import ProgressLine

    return CheckOptions(
        base_url=args.base_url,
        operations=tuple(args.operation),
        groups=tuple(args.group),
        api_key=args.api_key or None,
        auth=args.auth,
        model=args.model,
        deployment=args.deployment,
        api_version=args.api_version,
        prefixes=tuple(args.prefix),
        seed=args.seed,
        max_examples=args.max_examples,
        timeout=args.timeout,
        concurrency=args.concurrency,
        max_requests=args.max_requests,
        max_images=args.max_images,
        profile=args.profile,
        rate_limit=args.rate_limit,
        spec=args.spec,
        upstream=args.upstream,
        upstream_port=args.upstream_port,
        upstream_model_rules=args.upstream_model_rules,
        listeners=(ProgressLine(sys.stderr),),
        requirements=tuple(args.requirement),
        exclude_requirements=tuple(args.exclude_requirement),
        shard=args.shard,
        baseline=args.baseline,
        strict_baseline=args.strict_baseline,
        update_baseline=args.update_baseline,
        headers=tuple(args.header),
        secret_headers=tuple(args.secret_header),
        max_time=args.max_time,
        max_body=args.max_body_mb * 2**20,
    )


def run(args: argparse.Namespace) -> int:
    try:
        resolved = config.resolve(args)
    except config.ConfigError as exc:
        print(f"pixelpact check: {exc}", file=sys.stderr)
        return 2
    if args.show_config:
        print(config.show(resolved))
        return 0
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


def _prefix(text: str) -> tuple[str, str]:
    spec, sep, gateway = text.partition("=")
    if not sep or not spec.startswith("/") or (gateway and not gateway.startswith("/")):
        raise argparse.ArgumentTypeError(f"expected SPEC=GATEWAY with both starting with /, got {text!r}")
    return spec.rstrip("/"), gateway.rstrip("/")


def _shard(text: str) -> Shard:
    from pixelpact.conformance.scope.sharding import Shard

    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> float:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _header(text: str) -> tuple[str, str]:
    try:
        return parse_header(text)
    except HeaderError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
