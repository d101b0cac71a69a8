"""The Python API of the conformance suite: `check(CheckOptions(...)) -> Report`.

The `pixelpact check` command, the pytest plugin and the tests all go through here:

    from pixelpact.conformance.api import CheckOptions, check
    report = check(CheckOptions(base_url="http://127.0.0.1:8080", seed=1))
    assert report.verdict == "pass", [r.requirement.id for r in report.failed]

With no base_url the built-in stub gateway is started in-process and checked.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pixelpact.conformance.ci import baseline
from pixelpact.conformance.engine.breadth import breadth_first
from pixelpact.conformance.engine.context import RunContext, Target, Upstream
from pixelpact.conformance.engine.contract import Contract, OperationContract, load_contract
from pixelpact.conformance.engine.engine import Engine, Group
from pixelpact.conformance.engine.hypothesis_state import hypothesis_for_a_check
from pixelpact.conformance.engine.model_limits import ModelLimits
from pixelpact.conformance.model import WALL_CLOCK, Report
from pixelpact.conformance.options import (
    CheckError,
    CheckOptions,
    budget_of,
    passed_to,
    profile_of,
    reachable,
    redactor_of,
    upstream_of,
    validate,
)
from pixelpact.conformance.scope.requirement_filter import RequirementFilter
from pixelpact.conformance.scope.selection import restrict
from pixelpact.conformance.suite import ALL_GROUPS, by_name, catalogue, declared
from pixelpact.conformance.wire.http import Sender
from pixelpact.conformance.wire.interrupts import on_interrupt
from pixelpact.conformance.wire.ratelimit import Pacer
from pixelpact.generator.loader import SpecError

#: The public names: `check(CheckOptions(...))`, and CheckError when it cannot judge.
__all__ = ["CheckError", "CheckOptions", "check"]


def check(options: CheckOptions, suite: Sequence[Group] = ALL_GROUPS) -> Report:
    """Run the suite and return its report; raises CheckError when it cannot judge at all.

    `suite`: the groups options.groups chooses from (default: every group of pixelpact.conformance.suite)."""
    contract = _contract(options.spec)
    operations = _operations(contract, options.operations)
    known = _baseline(options)
    groups = _selection(options, suite).narrow(_groups(options.groups, suite))
    if options.pairs is not None:
        groups, operations = restrict(groups, operations, options.pairs)
    validate(options)
    if options.shard is not None:
        groups = options.shard.narrow(groups, operations)
        if not groups:
            raise CheckError(f"shard {options.shard} has nothing to run: the selection has fewer units than shards")
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    profile = profile_of(options)
    max_examples = options.max_examples if options.max_examples is not None else profile.max_examples
    upstream = upstream_of(options)
    with ExitStack() as stack:
        stack.enter_context(hypothesis_for_a_check())
        if upstream is not None:
            _start_upstream(stack, upstream, options.upstream_model_rules)
        base_url = options.base_url or _start_stub(stack, options.stub_config)
        if options.transport is None:
            reachable(base_url, options.timeout)
        # Each CheckOptions field goes by its name to the Sender, the Target and the RunContext parameter of that
        # name (options.passed_to); only what the run works out from the options is named here.
        sender = Sender(
            **passed_to(
                Sender,
                options,
                redactor=redactor_of(options, base_url),
                gateway=base_url,
                budget=budget_of(options),
                pacer=Pacer(options.rate_limit),
            )
        )
        stack.callback(sender.close)
        stack.enter_context(on_interrupt(sender.interrupt))
        executor = ThreadPoolExecutor(options.concurrency, thread_name_prefix="pixelpact-check")
        # cancel what has not started: after Ctrl-C (or a group's bug) nobody waits for the queued requests
        stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        limits = ModelLimits(**passed_to(ModelLimits, options))
        target = Target(**passed_to(Target, options, base_url=base_url.rstrip("/"), builtin=options.base_url is None))
        ctx = RunContext(
            **passed_to(
                RunContext,
                options,
                contract=contract,
                operations=tuple(operation for operation in operations if limits.serves(operation)),
                unserved=tuple(
                    (operation.operation_id, limits.why_not(operation, "this operation"))
                    for operation in operations
                    if not limits.serves(operation)
                ),
                limits=limits,
                target=target,
                sender=sender,
                seed=seed,
                max_examples=max_examples,
                upstream=upstream,
                executor=executor,
                profile=profile,
            )
        )
        if options.max_requests is not None or options.max_images is not None:
            groups = breadth_first(groups, profile, explicit_examples=options.max_examples)
        report = Engine(ctx, groups, options.listeners, catalogue=declared(suite)).execute()
        report.shard = str(options.shard) if options.shard is not None else ""
        report.notes.extend(route_hints(sender.statuses, contract))
        report.notes.extend(limits.notes())
        report.notes.extend(wall_clock_notes(report))
        if known is not None:
            baseline.apply(report, known, strict=options.strict_baseline)
        # a Ctrl-C while the run winds down (the stack below) reaches run.py, which reports an interrupted run
        return report


def _baseline(options: CheckOptions) -> baseline.Baseline | None:
    if options.baseline is None:
        if options.strict_baseline or options.update_baseline:
            raise CheckError("--strict-baseline and --update-baseline need --baseline FILE")
        return None
    if options.update_baseline and options.shard is not None:
        # N shards would each rewrite the one file with their part of the new failures
        raise CheckError("--update-baseline needs the whole run, not a shard")
    if not options.baseline.exists() and not options.update_baseline:
        raise CheckError(f"baseline {options.baseline}: no such file (--update-baseline creates it)")
    try:
        return baseline.load(options.baseline)
    except baseline.BaselineError as exc:
        raise CheckError(str(exc)) from None


def _contract(path: Path) -> Contract:
    try:
        return load_contract(path)
    except SpecError as exc:
        first = exc.problems[0] if exc.problems else "unreadable"
        raise CheckError(f"{path}: not a usable spec ({first})") from None


def _operations(contract: Contract, wanted: tuple[str, ...]) -> tuple[OperationContract, ...]:
    unknown = [operation_id for operation_id in wanted if operation_id not in contract.operation_ids]
    if unknown:
        raise CheckError(f"unknown operation {unknown[0]!r}; the spec has: {', '.join(contract.operation_ids)}")
    return tuple(op for op in contract.operations if not wanted or op.operation_id in wanted)


def _groups(wanted: tuple[str, ...], suite: Sequence[Group]) -> list[Group]:
    if not wanted:
        return list(suite)
    try:
        return by_name(wanted, suite)
    except KeyError as exc:
        names = ", ".join(group.name for group in suite)
        raise CheckError(f"unknown requirement group {exc.args[0]!r}; known: {names}") from None


def _selection(options: CheckOptions, suite: Sequence[Group]) -> RequirementFilter:
    selection = RequirementFilter(options.requirements, options.exclude_requirements)
    unmatched = selection.unmatched(requirement.id for requirement in catalogue(suite))
    if unmatched:
        raise CheckError(f"no requirement matches {unmatched[0]!r}; `pixelpact requirements` lists them")
    if not selection.narrow(suite):
        raise CheckError("--requirement/--exclude-requirement leave no requirement to judge")
    return selection


def route_hints(statuses: Counter[int], contract: Contract) -> list[str]:
    """A hint when every answer was 404 (auth refusals aside): the gateway serves the routes under another path."""
    answers = sum(count for status, count in statuses.items() if status not in {401, 403})
    if answers < 2 or statuses[404] != answers:
        return []
    path = contract.operations[0].path if contract.operations else "/v1/images/generations"
    spec_prefix = "/" + path.strip("/").split("/")[0]
    return [
        f"every request got 404 ({answers} of {answers}): does the gateway serve these routes under another path? "
        f"map the spec's route prefix with --prefix SPEC=GATEWAY, e.g. --prefix {spec_prefix}=/openai{spec_prefix}"
    ]


def wall_clock_notes(report: Report) -> list[str]:
    """The note of a run the clock cut short (--max-time, 429s waited out too long): not repeatable from its seed."""
    cut = sorted({result.reason for result in report.results if result.reason in WALL_CLOCK})
    if not cut:
        return []
    why = ", ".join(f"not judged: {reason}" for reason in cut)
    return [
        f"the clock cut this run short ({why}): where it stopped depends on how fast this machine and the target "
        "were, so a run with the same seed may judge more or fewer pairs; a run that is not cut short repeats"
    ]


def _start_stub(stack: ExitStack, config: Any) -> str:
    """Start the built-in stub gateway for the duration of the run; its base URL."""
    try:
        from pixelpact.generator.runtime.serve import stub_server
    except ImportError as exc:  # the stub is part of pixelpact; this only happens in a broken checkout
        raise CheckError(f"the built-in stub gateway is not available ({exc}); pass --base-url") from None
    try:
        return stack.enter_context(stub_server(config))
    except (RuntimeError, OSError) as exc:
        raise CheckError(f"the built-in stub gateway did not start: {exc}") from None


def _start_upstream(stack: ExitStack, upstream: Upstream, model_rules: str | None = None) -> None:
    """Run the stub as the recording provider behind the gateway for the duration of the run (issue 6)."""
    from pixelpact.conformance.engine.upstream import recording_upstream

    try:
        stack.enter_context(recording_upstream(upstream, model_rules))
    except (RuntimeError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CheckError(f"cannot run the recording upstream on {upstream.host}:{upstream.port}: {reason}") from None
