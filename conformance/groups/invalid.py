"""Invalid requests: n out of range or not an integer, unknown enum values, missing required fields, a body of the
wrong media type, malformed JSON. Each must get a 4xx (never a 2xx or a 5xx) with the spec's error body.

Every value comes from the spec: n's bounds from ImageCount, the enums and required fields from the request
schema, the file parts from its binary properties. A 4xx from the provider behind the gateway passes as well as
one from the gateway itself: the client sees the same thing. A 4xx counts only when it is attributable to what was
made invalid: not 401, 403, 404, 405 or 429, and only while the same operation accepts its valid request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pixelpact.conformance.catalogue.requirements import INVALID
from pixelpact.conformance.engine.context import OMIT, RunContext
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.groups._judge import (
    Control,
    control_body,
    error_body_problem,
    expect_rejection,
    guarded,
    judge_probes,
    observe,
)
from pixelpact.conformance.groups._upstream import send_traced, traced
from pixelpact.conformance.model import Observation

UNKNOWN_VALUE = "pixelpact-unknown-value"
#: The enum fields seed 003 (Azure create image) lists. On the Azure routes a gateway hands the others (background,
#: moderation, output_format ...) to Azure as they are, and the seeds say nothing of them: rejecting an unknown value
#: there is not required.
AZURE_SEEDED_ENUMS = frozenset({"size", "quality", "style", "response_format"})
_SIZE = re.compile(r"^\d+x\d+$")


@dataclass(frozen=True)
class Probe:
    """One invalid request and the requirement it tests."""

    requirement_id: str
    label: str
    body: dict[str, Any] | None = None
    encoding: str = "auto"
    raw: bytes | None = None
    content_type: str | None = None


class InvalidGroup:
    name = "invalid"
    requirements = INVALID

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        _, observations = judge_probes(ctx, probes_for, judge)
        yield from observations


def probes_for(ctx: RunContext, operation: OperationContract) -> list[Probe]:
    """The invalid requests sent to one operation, all derived from its request schema."""
    probes: list[Probe] = []
    for name, bounds in _integer_fields(operation, ("n",)):
        low, high = bounds
        out_of_range = dict.fromkeys(
            value
            for value in (low - 1 if low is not None else None, high + 1 if high is not None else None, -1)
            if value is not None and not _within(value, bounds)
        )
        for value in out_of_range:
            probes.append(
                Probe("n-out-of-range-rejected", f"{name}={value}", control_body(ctx, operation, **{name: value}))
            )
        # in JSON a numeric string is not an integer either; in multipart every value is text, so "2" is valid there
        not_integers: tuple[object, ...] = ("abc", 1.5) if operation.is_multipart else ("abc", 1.5, str(low or 1))
        for bad in not_integers:
            probes.append(
                Probe("n-not-integer-rejected", f"{name}={bad!r}", control_body(ctx, operation, **{name: bad}))
            )
    for name, values in checked_enums(operation).items():
        unknown = _unknown_value(values)
        probes.append(
            Probe("unknown-enum-rejected", f"{name}={unknown!r}", control_body(ctx, operation, **{name: unknown}))
        )
    # a field required unless another has a value (prompt unless type=background_removal) is left out with that
    # other field absent: required there as much as a required field is
    waivers = {name: OMIT for rule in operation.required_unless for name in rule.unless}
    for name in sorted(operation.required_in({})):
        without = {**waivers, name: OMIT} if name not in operation.required else {name: OMIT}
        probes.append(Probe("missing-required-rejected", f"without {name}", control_body(ctx, operation, **without)))
        schema = operation.properties.get(name) or {}
        if schema.get("type") == "string" and int(schema.get("minLength", 0)) >= 1:
            empty = {**without, name: ""}
            probes.append(Probe("missing-required-rejected", f"{name}=''", control_body(ctx, operation, **empty)))
    if operation.one_of_required:
        alternatives = sorted(set().union(*operation.one_of_required))
        body = control_body(ctx, operation, **dict.fromkeys(alternatives, OMIT))
        probes.append(Probe("missing-required-rejected", f"without any of {', '.join(alternatives)}", body))
    if operation.is_multipart:
        probes.append(Probe("non-multipart-rejected", "a JSON body", control_body(ctx, operation), encoding="json"))
    else:
        text = json.dumps(control_body(ctx, operation))
        probes.append(
            Probe(
                "bad-json-rejected",
                "truncated JSON",
                raw=text[: len(text) // 2].encode(),
                content_type="application/json",
            )
        )
    return probes


def checked_enums(operation: OperationContract) -> dict[str, tuple[Any, ...]]:
    """The enum fields whose unknown values must be rejected on this operation (see AZURE_SEEDED_ENUMS)."""
    enums = operation.enum_properties()
    if operation.family == "azure":
        return {name: values for name, values in enums.items() if name in AZURE_SEEDED_ENUMS}
    return dict(enums)


def _integer_fields(
    operation: OperationContract, names: tuple[str, ...]
) -> list[tuple[str, tuple[int | None, int | None]]]:
    fields = []
    for name in names:
        bounds = operation.integer_range(name)
        if bounds is not None:
            fields.append((name, bounds))
    return fields


def _within(value: int, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def _unknown_value(values: tuple[Any, ...]) -> str:
    """A value outside the enum that looks like its members (a WxH size for a size enum) so only the value is wrong."""
    if any(isinstance(value, str) and _SIZE.match(value) for value in values):
        for candidate in ("1000x1000", "123x457", "99999x1"):
            if candidate not in values:
                return candidate
    return UNKNOWN_VALUE


def judge(ctx: RunContext, operation: OperationContract, probe: Probe, valid: Control) -> list[Observation]:
    return guarded((probe.requirement_id,), operation, lambda: _judge(ctx, operation, probe, valid))


def _judge(ctx: RunContext, operation: OperationContract, probe: Probe, valid: Control) -> list[Observation]:
    reply, trace = send_traced(
        ctx,
        operation,
        probe.body,
        encoding=probe.encoding,
        raw=probe.raw,
        content_type=probe.content_type,
    )
    sent = f"sent {probe.label}"
    observations = [expect_rejection(probe.requirement_id, operation, reply, sent, valid)]
    if reply.status is not None and reply.status >= 400:
        problem = error_body_problem(reply, operation)
        observations.append(observe("error-body-shape", operation, f"{sent}: {problem}" if problem else None, reply))
    return traced(ctx, trace, reply, observations)


GROUP = InvalidGroup()
