"""What a run is asked to do: `CheckOptions`, their validation, and what follows from them before anything is sent
(the profile, the budget, the recording upstream's address, whether the target answers at all).

`pixelpact.conformance.api.check` runs them; `pixelpact.conformance.cli.plan` plans them with a dry run first. Both
validate here, so an option is checked the same way whichever way it came in.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from pixelpact.conformance.engine.context import Upstream, secret_forms
from pixelpact.conformance.engine.engine import Listener
from pixelpact.conformance.engine.profiles import PROFILES, Profile, default_profile
from pixelpact.conformance.flags import problem
from pixelpact.conformance.scope.sharding import Shard
from pixelpact.conformance.wire.headers import secret_values
from pixelpact.conformance.wire.http import MAX_BODY, Redactor
from pixelpact.conformance.wire.spend import Budget
from pixelpact.generator.loader import DEFAULT_SPEC


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
    """Examples per operation for the property-based groups; None: the profile's (engine/profiles.py)."""
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


def passed_to(callee: Callable[..., Any], options: CheckOptions, **resolved: Any) -> dict[str, Any]:
    """The keyword arguments `callee` (the Sender, the Target, the RunContext) takes from a run's options: every
    CheckOptions field named like one of its parameters, as given, and `resolved` over them (what the run works out
    from the options: the stub's URL, the seed drawn, the redactor). So an option reaches them by its name alone."""
    parameters = inspect.signature(callee).parameters
    given = {field.name: getattr(options, field.name) for field in fields(options) if field.name in parameters}
    return {**given, **resolved}


def redactor_of(options: CheckOptions, base_url: str) -> Redactor:
    """What the run keeps out of every output: every form of the key, the values of credential headers and of those
    marked secret, and the password of the target URL's userinfo (httpx sends it as Basic auth)."""
    secrets = secret_forms(options.api_key) if options.api_key else []
    secrets += secret_values(options.headers, options.secret_headers)
    userinfo = urlsplit(base_url)
    if userinfo.password:
        secrets += secret_forms(f"{userinfo.username or ''}:{userinfo.password}")
    return Redactor(secrets, marked=options.secret_headers)


def validate(options: CheckOptions) -> None:
    """Raise CheckError with one line naming the option when a field breaks a rule its flag declares (the bounds and
    each flag's `check`, pixelpact.conformance.flags)."""
    found = problem(options)
    if found is not None:
        raise CheckError(found)


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


def reachable(base_url: str, timeout: float) -> None:
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
