"""The Python API of the conformance suite: `check(CheckOptions(...)) -> Report`.

The `pixelpact check` command, the pytest plugin and the tests all go through here:

    from pixelpact.conformance.api import CheckOptions, check
    report = check(CheckOptions(base_url="http://127.0.0.1:8080", seed=1))
    assert report.verdict == "pass", [r.requirement.id for r in report.failed]

With no base_url the built-in stub gateway is started in-process and checked.
"""

from __future__ import annotations

import random
import socket
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from pixelpact.conformance.ci import baseline
from pixelpact.conformance.engine.breadth import breadth_first
from pixelpact.conformance.engine.context import AUTH_SCHEMES, RunContext, Target, Upstream, secret_forms
from pixelpact.conformance.engine.contract import Contract, OperationContract, load_contract
from pixelpact.conformance.engine.engine import Engine, Group, Listener
from pixelpact.conformance.engine.hypothesis_state import hypothesis_state_in_cache
from pixelpact.conformance.engine.model_limits import ModelLimits
from pixelpact.conformance.engine.profiles import PROFILES, Profile, default_profile
from pixelpact.conformance.model import Report
from pixelpact.conformance.scope.requirement_filter import RequirementFilter
from pixelpact.conformance.scope.selection import restrict
from pixelpact.conformance.scope.sharding import Shard
from pixelpact.conformance.suite import ALL_GROUPS, by_name, catalogue, declared
from pixelpact.conformance.wire.headers import HeaderError, parse_header, secret_values
from pixelpact.conformance.wire.http import MAX_BODY, Redactor, Sender
from pixelpact.conformance.wire.interrupts import on_interrupt
from pixelpact.conformance.wire.ratelimit import Pacer
from pixelpact.conformance.wire.spend import Budget
from pixelpact.generator.loader import DEFAULT_SPEC, SpecError


class CheckError(Exception):
    """The suite could not judge: bad options, an unusable spec, an unreachable target. The message is one line."""


@dataclass
class CheckOptions:
    """Everything one run needs; the fields mirror `pixelpact check`'s options."""

    base_url: str | None = None
    """The gateway to check; None starts the built-in stub gateway in-process and checks it."""
    operations: tuple[str, ...] = ()
    """operationIds to check; empty: every operation of the spec."""
    groups: tuple[str, ...] = ()
    """Requirement groups to run (see pixelpact.conformance.suite.ALL_GROUPS); empty: all of them."""
    api_key: str | None = None
    auth: str = "bearer"
    """How the key is sent: bearer, basic, x-bf-vk, x-api-key or api-key."""
    model: str | None = None
    deployment: str | None = None
    api_version: str | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    """(spec route prefix, gateway route prefix) pairs, e.g. ("/openai/openai/deployments", "/openai/deployments")."""
    seed: int | None = None
    """None: a random seed, reported so the run can be repeated."""
    max_examples: int | None = None
    """Examples per operation for the property-based groups; None: the profile's (quick 2, standard 5, deep 10)."""
    timeout: float = 30.0
    """Seconds per request."""
    concurrency: int = 4
    max_requests: int | None = None
    """A budget of requests (a paid provider charges per image); None: no limit."""
    max_images: int | None = None
    """A budget of images asked of the provider (n per request on the image routes); None: no limit."""
    profile: str | None = None
    """quick, standard or deep (pixelpact.conformance.engine.profiles); None: deep on the built-in stub and loopback,
    else quick."""
    rate_limit: float | None = None
    """Requests per second at most (--rate-limit 2/s, 30/min); None: as fast as --concurrency allows."""
    plan_images: int | None = None
    """The images the run's plan asked for: the run never asks for more (set by pixelpact.conformance.cli.plan)."""
    spec: Path = DEFAULT_SPEC
    upstream: str | None = None
    """HOST:PORT of the recording upstream for the two-sided checks (issue 6)."""
    upstream_port: int | None = None
    """Port on 127.0.0.1 for the recording upstream (shorthand for upstream="127.0.0.1:PORT")."""
    upstream_model_rules: str | None = None
    """The recording upstream plays this provider model: it refuses what the model does not take
    (pixelpact.generator.runtime.provider_api); None: it serves everything the spec allows."""
    stub_config: Any = None
    """A pixelpact.generator.runtime.config.StubConfig for the built-in stub (only without base_url)."""
    listeners: tuple[Listener, ...] = field(default=())
    """Event consumers (progress line, pytest plugin); see pixelpact.conformance.engine.engine."""
    transport: httpx.BaseTransport | None = None
    """An httpx transport to send through instead of the network (tests); skips the reachability check."""
    requirements: tuple[str, ...] = ()
    """Requirement ids to judge, shell-style globs ("stream-*"); empty: all (see
    pixelpact.conformance.scope.requirement_filter)."""
    exclude_requirements: tuple[str, ...] = ()
    """Requirement ids (globs) not to judge."""
    shard: Shard | None = None
    """Run only this shard of the run's units (--shard K/N, see pixelpact.conformance.scope.sharding); None: the whole
    run."""
    baseline: Path | None = None
    """A baseline of known deviations (see pixelpact.conformance.ci.baseline): known failures do not fail the run."""
    strict_baseline: bool = False
    """A baseline entry that no longer fails fails the run until it is removed."""
    update_baseline: bool = False
    """The caller rewrites the baseline after the run, so a missing file is an empty baseline, not an error."""
    headers: tuple[tuple[str, str], ...] = ()
    """(name, value) headers sent on every request to the gateway (--header); see pixelpact.conformance.wire.headers."""
    secret_headers: tuple[str, ...] = ()
    """Names of further headers whose values are secrets (--secret-header), redacted like the key."""
    max_time: float | None = None
    """Seconds for the whole run; the pairs left when it runs out are not judged (time). None: no limit."""
    max_body: int = MAX_BODY
    """Bytes of a response body read at most; a larger body is a failure, never held (unread when its Content-Length
    says so)."""
    pairs: frozenset[tuple[str, str]] | None = None
    """Only these (requirement id, operationId) pairs (see pixelpact.conformance.scope.selection); None: every pair
    selected above."""


def check(options: CheckOptions, suite: Sequence[Group] = ALL_GROUPS) -> Report:
    """Run the suite and return its report; raises CheckError when it cannot judge at all.

    `suite`: the groups options.groups chooses from (default: every group of pixelpact.conformance.suite)."""
    contract = _contract(options.spec)
    operations = _operations(contract, options.operations)
    known = _baseline(options)
    groups = _selection(options, suite).narrow(_groups(options.groups, suite))
    if options.pairs is not None:
        groups, operations = restrict(groups, operations, options.pairs)
    _validate(options)
    if options.shard is not None:
        groups = options.shard.narrow(groups, operations)
        if not groups:
            raise CheckError(f"shard {options.shard} has nothing to run: the selection has fewer units than shards")
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    profile = profile_of(options)
    max_examples = options.max_examples if options.max_examples is not None else profile.max_examples
    upstream = upstream_of(options)
    with ExitStack() as stack:
        stack.enter_context(hypothesis_state_in_cache())
        if upstream is not None:
            _start_upstream(stack, upstream, options.upstream_model_rules)
        base_url = options.base_url or _start_stub(stack, options.stub_config)
        if options.transport is None:
            _reachable(base_url, options.timeout)
        secrets = secret_forms(options.api_key) if options.api_key else []
        secrets += secret_values(options.headers, options.secret_headers)
        userinfo = urlsplit(base_url)
        if userinfo.password:  # http://user:secret@host: httpx sends it as Basic auth
            secrets += secret_forms(f"{userinfo.username or ''}:{userinfo.password}")
        sender = Sender(
            timeout=options.timeout,
            concurrency=options.concurrency,
            max_requests=options.max_requests,
            redactor=Redactor(secrets, marked=options.secret_headers),
            transport=options.transport,
            headers=options.headers,
            gateway=base_url,
            max_time=options.max_time,
            max_body=options.max_body,
            budget=budget_of(options),
            pacer=Pacer(options.rate_limit),
        )
        stack.callback(sender.close)
        stack.enter_context(on_interrupt(sender.interrupt))
        executor = ThreadPoolExecutor(options.concurrency, thread_name_prefix="pixelpact-check")
        # cancel what has not started: after Ctrl-C (or a group's bug) nobody waits for the queued requests
        stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        limits = ModelLimits(options.model, options.deployment)
        ctx = RunContext(
            contract=contract,
            operations=tuple(operation for operation in operations if limits.serves(operation)),
            unserved=tuple(
                (operation.operation_id, limits.why_not(operation, "this operation"))
                for operation in operations
                if not limits.serves(operation)
            ),
            limits=limits,
            target=Target(
                base_url=base_url.rstrip("/"),
                prefixes=options.prefixes,
                model=options.model,
                deployment=options.deployment,
                api_version=options.api_version,
                api_key=options.api_key,
                auth=options.auth,
                builtin=options.base_url is None,
            ),
            sender=sender,
            seed=seed,
            max_examples=max_examples,
            concurrency=options.concurrency,
            upstream=upstream,
            executor=executor,
            profile=profile,
        )
        if options.max_requests is not None or options.max_images is not None:
            groups = breadth_first(groups, profile, explicit_examples=options.max_examples)
        report = Engine(ctx, groups, options.listeners, catalogue=declared(suite)).execute()
        report.shard = str(options.shard) if options.shard is not None else ""
        report.notes.extend(route_hints(sender.statuses, contract))
        report.notes.extend(limits.notes())
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


def profile_of(options: CheckOptions) -> Profile:
    """The run's profile: --profile, else the safe default for the target
    (pixelpact.conformance.engine.profiles.default_profile)."""
    if options.profile is None:
        return default_profile(options.base_url)
    try:
        return PROFILES[options.profile]
    except KeyError:
        raise CheckError(f"unknown profile {options.profile!r}; use one of {', '.join(PROFILES)}") from None


def budget_of(options: CheckOptions) -> Budget:
    """--max-requests and --max-images, the latter never above what the run's plan asked for."""
    limits = [limit for limit in (options.max_images, options.plan_images) if limit is not None]
    return Budget(max_requests=options.max_requests, max_images=min(limits) if limits else None)


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


def _validate(options: CheckOptions) -> None:
    if options.auth not in AUTH_SCHEMES:
        raise CheckError(f"unknown auth scheme {options.auth!r}; use one of {', '.join(AUTH_SCHEMES)}")
    if options.concurrency < 1:
        raise CheckError("concurrency must be at least 1")
    if options.timeout <= 0:
        raise CheckError("timeout must be positive")
    if (options.upstream or options.upstream_port is not None) and options.base_url is None:
        # The built-in stub answers requests itself; a recording upstream behind it would never see one.
        raise CheckError("--upstream/--upstream-port check what a gateway forwards: give the gateway with --base-url")
    if options.upstream_model_rules is not None:
        from pixelpact.generator.runtime.provider_api import MODELS, rules_for

        if not (options.upstream or options.upstream_port is not None):
            raise CheckError("--upstream-model-rules is for the recording upstream: give --upstream-port too")
        if rules_for(options.upstream_model_rules) is None:
            raise CheckError(f"upstream-model-rules: no rules for {options.upstream_model_rules!r} (known: "
                             f"{', '.join(MODELS)})")  # fmt: skip
    if options.max_requests is not None and options.max_requests < 1:
        raise CheckError("max-requests must be at least 1")
    if options.max_images is not None and options.max_images < 0:
        raise CheckError("max-images must be at least 0")
    if options.rate_limit is not None and options.rate_limit <= 0:
        raise CheckError("rate-limit must be positive")
    for name, value in options.headers:
        try:
            parse_header(f"{name}: {value}")
        except HeaderError as exc:
            raise CheckError(str(exc)) from None
    if options.max_examples is not None and options.max_examples < 1:
        raise CheckError("max-examples must be at least 1")
    if options.max_time is not None and options.max_time <= 0:
        raise CheckError("max-time must be positive")
    if options.max_body < 1:
        raise CheckError("max-body must be at least 1 byte")
    if options.base_url is not None:
        parts = urlsplit(options.base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise CheckError(f"base URL {options.base_url!r} is not an http(s) URL")
    for spec_prefix, gateway_prefix in options.prefixes:
        if not spec_prefix.startswith("/") or not (gateway_prefix == "" or gateway_prefix.startswith("/")):
            raise CheckError(f"prefix {spec_prefix}={gateway_prefix}: both sides must start with /")


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


def upstream_of(options: CheckOptions) -> Upstream | None:
    """Where the recording upstream of a two-sided run listens (--upstream / --upstream-port), or None."""
    if options.upstream:
        host, _, port = options.upstream.rpartition(":")
        if not host or not port.isdigit():
            raise CheckError(f"upstream {options.upstream!r} is not HOST:PORT")
        return Upstream(host.strip("[]"), int(port))
    if options.upstream_port is not None:
        return Upstream("127.0.0.1", options.upstream_port)
    return None


def public_url(url: str) -> str:
    """The URL with the password of its userinfo (http://user:secret@host) masked, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", f":{Redactor.MASK}@", 1)))


def _reachable(base_url: str, timeout: float) -> None:
    """Fail fast with one line when nothing listens at the target (a TCP connect, no HTTP request spent)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 10.0)):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CheckError(f"cannot reach {public_url(base_url)}: {reason}") from None


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
    from pixelpact.conformance.groups.forwarding import recording_upstream

    try:
        stack.enter_context(recording_upstream(upstream, model_rules))
    except (RuntimeError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CheckError(f"cannot run the recording upstream on {upstream.host}:{upstream.port}: {reason}") from None
