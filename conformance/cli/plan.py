"""The plan of a run, made before its first request: `pixelpact check --plan` prints it and sends nothing.

A plan is a dry run of the same options (profile, seed, operations, groups, budgets, --api-key, --upstream) against a
private stub gateway on loopback, which answers as a conforming gateway would; it records, per group and in total,
the requests, the images they ask providers to generate and their megapixels, and which requirement x operation
pairs each request judges. The deterministic groups send exactly the plan to any gateway. schemathesis and the
hypothesis properties are bounded by --max-examples per operation and may draw differently against a gateway that
answers differently, so their figures are the dry run's and the plan says so; `planned_check` then caps the real
run's images at the plan's total, so a run never asks for more images than its plan said (what it cannot afford is
not judged, reason budget).
"""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from pixelpact.conformance.api import check
from pixelpact.conformance.engine.engine import Event, ObservationMade
from pixelpact.conformance.engine.model_limits import ModelLimits
from pixelpact.conformance.engine.profiles import is_loopback
from pixelpact.conformance.flags import target_only
from pixelpact.conformance.model import Report
from pixelpact.conformance.options import CheckOptions, profile_of, reachable, validate
from pixelpact.generator.runtime.provider_api import rules_for

#: Groups whose requests are drawn (bounded by --max-examples), not fixed by the seed alone.
DRAWN_GROUPS = ("schemathesis", "properties")
#: Characters of a request's curl line kept in the plan's per-request list.
CURL_CHARS = 300


@dataclass
class PlannedRequest:
    group: str
    request: str
    """The redacted curl line, cut at CURL_CHARS."""
    judges: set[str] = field(default_factory=set)
    """requirement@operation pairs its answer judges."""


@dataclass
class Plan:
    profile: str
    seed: int
    max_examples: int
    groups: dict[str, dict[str, Any]]
    """group -> {"requests", "images", "megapixels", "pairs"}."""
    requests: list[PlannedRequest]
    pairs: int
    """Distinct pairs the whole plan judges (groups may judge the same pair: invalid and robustness, error bodies)."""
    limits: list[str] = field(default_factory=list)
    """What the valid requests keep to: the model's rules, or the spec's ranges
    (pixelpact.conformance.engine.model_limits)."""

    @property
    def total(self) -> dict[str, Any]:
        sums: dict[str, Any] = {"requests": 0, "images": 0, "megapixels": 0.0}
        for figures in self.groups.values():
            for key in sums:
                sums[key] += figures[key]
        return {**sums, "megapixels": round(sums["megapixels"], 3), "pairs": self.pairs}

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "seed": self.seed,
            "groups": self.groups,
            "total": self.total,
            "limits": self.limits,
            "bounded": {
                name: f"at most --max-examples {self.max_examples} per operation, as drawn in the dry run"
                for name in DRAWN_GROUPS
                if name in self.groups
            },
            "requests": [{"group": r.group, "request": r.request, "judges": sorted(r.judges)} for r in self.requests],
        }


class _Recorder:
    """Listens to the dry run: which pairs each request's answer judged, per group."""

    def __init__(self) -> None:
        self.by_request: dict[tuple[str, str], PlannedRequest] = {}
        self.pairs: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, ObservationMade) and not event.observation.skipped:
            observation = event.observation
            pair = f"{observation.requirement_id}@{observation.operation_id}"
            with self._lock:
                self.pairs.setdefault(event.group, set()).add(pair)
                if observation.exchange is not None:
                    curl = observation.exchange.curl[:CURL_CHARS]
                    key = (event.group, curl)
                    planned = self.by_request.setdefault(key, PlannedRequest(event.group, curl))
                    planned.judges.add(pair)


def make_plan(options: CheckOptions, *, plan_only: bool = True) -> Plan:
    """Dry-run the options against a private stub on loopback; nothing reaches options.base_url."""
    from pixelpact.generator.runtime.config import StubConfig
    from pixelpact.generator.runtime.serve import stub_server

    validate(options)  # the target's options, before the dry run replaces them
    if options.base_url is not None and options.transport is None and not plan_only:
        reachable(options.base_url, options.timeout)  # a dead target fails fast, before a dry run
    profile = profile_of(options)
    seed = options.seed if options.seed is not None else random.randrange(2**32)
    recorder = _Recorder()
    limits = ModelLimits(options.model, options.deployment)
    # the private stub plays the model the run keeps to, as the deployment behind the gateway would
    played = next((name for name in limits.chosen if rules_for(name) is not None), None)
    config = StubConfig(api_keys=(options.api_key,) if options.api_key else (), model_rules=played)
    with stub_server(config) as url:
        dry = replace(
            options,
            base_url=url,
            profile=profile.name,
            seed=seed,
            **target_only(),
            plan_images=None,
            listeners=(recorder,),
            transport=None,
            stub_config=None,
            upstream=f"127.0.0.1:{_free_port()}" if options.upstream or options.upstream_port else None,
            upstream_port=None,
        )
        report = check(dry)
    groups = {
        name: {**figures, "pairs": len(recorder.pairs.get(name, ()))}
        for name, figures in report.spent.get("groups", {}).items()
    }
    examples = options.max_examples if options.max_examples is not None else profile.max_examples
    pairs = set().union(*recorder.pairs.values()) if recorder.pairs else set()
    requests = list(recorder.by_request.values())
    return Plan(profile.name, seed, examples, groups, requests, len(pairs), limits.describe())


def planned_check(options: CheckOptions, plan: Plan | None = None) -> Report:
    """Plan, then run within the plan: the same seed and profile, never more images than the plan asked for."""
    plan = plan or make_plan(options, plan_only=False)
    report = check(replace(options, seed=plan.seed, profile=plan.profile, plan_images=plan.total["images"]))
    report.plan = plan.as_dict()
    return report


def needs_plan(options: CheckOptions) -> bool:
    """Whether the command line plans a run first: every target off this machine (where a provider may bill)."""
    return options.base_url is not None and not is_loopback(options.base_url)


def render_plan(plan: Plan, target: str | None) -> str:
    """The plan as a table for the terminal."""
    lines = [
        f"plan: profile {plan.profile}, seed {plan.seed}; a dry run against a private stub, nothing sent to {target}"
        if target
        else f"plan: profile {plan.profile}, seed {plan.seed}; a dry run against a private stub",
        *[f"  {line}" for line in plan.limits],
        f"  {'group':<14}{'requests':>10}{'images':>8}{'megapixels':>12}{'pairs':>7}",
    ]
    for name, figures in [*plan.groups.items(), ("total", plan.total)]:
        mark = "*" if name in DRAWN_GROUPS else ""
        lines.append(
            f"  {name + mark:<14}{figures['requests']:>10}{figures['images']:>8}"
            f"{figures['megapixels']:>12.1f}{figures['pairs']:>7}"
        )
    if any(name in plan.groups for name in DRAWN_GROUPS):
        lines.append(
            f"  * drawn by schemathesis / hypothesis: at most --max-examples {plan.max_examples} per operation; a run "
            "never asks for more images than the total"
        )
    lines.append(
        f"  images asked of the provider (an upper bound); the same options with --seed {plan.seed} send this plan"
    )
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
