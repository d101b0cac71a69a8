"""Valid requests: every operation, each value of its size/response_format/quality/style enums, n at its bounds,
`image[]` with 1, 2 and 3 files, user and fallbacks present; each answer judged on status, content type, schema,
count, and the images themselves (decodable, of the requested size, served at their url).

The enum values are spread over as few requests as possible: request i takes value i of every enum (in a seeded
order), so each value is sent at least once and the request count is the longest enum's length, not the product.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from pixelpact.conformance.catalogue.requirements import VALID
from pixelpact.conformance.engine.context import RunContext, smallest_of
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import NotAnImage, decode_b64, decode_image, distinct_pngs
from pixelpact.conformance.engine.profiles import cheapest_cover
from pixelpact.conformance.groups._judge import (
    controls,
    guarded,
    observe,
    schema_problem,
    skip,
    transport_problem,
    with_images,
)
from pixelpact.conformance.groups._upstream import refused_on_the_way, send_traced
from pixelpact.conformance.model import Observation, Unjudged
from pixelpact.conformance.wire.http import Reply
from pixelpact.conformance.wire.spend import body_cost

#: The enums whose every value is sent (the seed: "each size, each response_format, quality, style").
COVERED_ENUMS = ("size", "response_format", "quality", "style")
#: How many returned urls per response are fetched (a budget matter: n can be 10).
URLS_FETCHED = 2
PROMPTS = (
    "a red square on a white table",
    "a lighthouse at dusk, watercolour",
    "three green apples in a bowl",
    "an isometric pixel-art robot",
)
_SIZE = re.compile(r"^(\d+)x(\d+)$")
#: A field no spec names, for "requests tolerate unknown fields".
UNKNOWN_FIELD = "pixelpact_extra"


@dataclass(frozen=True)
class Case:
    """One valid request and what its answer must satisfy."""

    label: str
    body: dict[str, Any]
    n: int
    size: str | None
    response_format: str | None
    """The response_format sent; None when absent (then url or b64_json both pass: the seeds state no default)."""
    requirements: tuple[str, ...] = ("valid-request-accepted",)
    output_format: str | None = None
    """The requested output_format, judged only in the cases that vary it."""
    answered: str | None = None
    """The format the answer comes in when no response_format is sent and the model takes none (base64)."""


class ValidGroup:
    name = "valid"
    requirements = VALID

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        if ctx.limits.unknown() is not None:
            # a model the table does not know: its valid control first (shared with invalid and robustness), so
            # what its provider refuses is learned before the cases are chosen
            controls(ctx)
        cases = [(operation, case) for operation in ctx.operations for case in cases_for(ctx, operation)]
        for operation in ctx.operations:
            yield from beyond_the_model(ctx, operation)
        for observations in ctx.map(lambda item: judge_case(ctx, *item), cases):
            yield from observations


#: What a requirement of this group needs that a model may not take, for the reason it is not judged.
NEEDS = {
    "url-is-absolute": "response_format=url",
    "url-serves-image": "response_format=url",
    "b64-json-is-image": "response_format=b64_json",
    "image-format-matches-output-format": "output_format",
    "image-array-accepted": "image[] with several files",
    "image-dimensions-match-size": "a WxH size",
}


def beyond_the_model(ctx: RunContext, operation: OperationContract) -> list[Observation]:
    """The requirements the spec's values would exercise on this operation but the model's do not: not judged, with
    the reason (never failed, never left out of the report)."""
    if ctx.limits.rules(operation) is None and not ctx.limits.learned:
        return []
    everything = replace(ctx, limits=type(ctx.limits)())
    wanted = set().union(*(_judged_by(case) for case in cases_for(everything, operation)))
    kept = set().union(*(_judged_by(case) for case in cases_for(ctx, operation)))
    return [
        skip(rid, operation, ctx.limits.why_not(operation, NEEDS.get(rid, "what it needs")), Unjudged.NOT_APPLICABLE)
        for rid in sorted(wanted - kept)
    ]


def cases_for(ctx: RunContext, operation: OperationContract) -> list[Case]:
    """The valid requests sent to one operation (deterministic for a seed)."""
    rng = ctx.random("valid", operation.operation_id)
    minimal = ctx.valid_body(operation)
    default_n = _default_n(operation)
    cases = [
        Case("required fields only", minimal, default_n, None, None),
    ]
    enums = {name: ctx.limits.allowed(operation, name, operation.enum(name) or ()) for name in COVERED_ENUMS}
    enums = {name: values for name, values in enums.items() if values}
    for values in enums.values():
        rng.shuffle(values)
    n_low, n_high = _n_range(operation)
    if n_low is not None:
        n_low, n_high = ctx.limits.n_range(operation, n_low, n_high)
    expected = None if ctx.limits.takes(operation, "response_format") else "b64_json"
    extras: dict[str, Any] = {}
    if "model" in operation.properties:
        extras["model"] = ctx.model
    for i in range(max((len(values) for values in enums.values()), default=0)):
        body = ctx.valid_body(operation, **extras, prompt=rng.choice(PROMPTS))
        for name, values in enums.items():
            body[name] = values[i % len(values)]
        if n_low is not None and ctx.profile.cheapest_n:
            body["n"] = n_low  # n is not the point here (the bounds get their own cases): the fewest images
        elif n_low is not None:
            # small n keeps the run fast; the bounds get their own cases below
            body["n"] = rng.randint(n_low, min(n_high if n_high is not None else n_low + 2, n_low + 2))
        cases.append(_case(operation, f"enum values #{i + 1}", body, default_n, expected))
    if n_low is not None:
        for label, n in (("n at its minimum", n_low), ("n at its maximum", n_high)):
            if n is None:
                continue
            body = ctx.valid_body(operation, **extras, n=n)
            if "size" in enums:
                body["size"] = _smallest_size(enums["size"])  # n images of the smallest size: the cheapest answer
            if "response_format" in enums:
                body["response_format"] = rng.choice(enums["response_format"])
            cases.append(_case(operation, label, body, default_n, expected))
    optional = {
        name: value
        for name, value in (("user", "pixelpact-check"), ("fallbacks", [operation.fallback(ctx.model)]))
        if name in operation.properties
    }
    if optional:
        cases.append(
            _case(
                operation,
                "user and fallbacks present",
                ctx.valid_body(operation, **extras, **optional),
                default_n,
                expected,
            )
        )
    for output_format in ctx.limits.allowed(operation, "output_format", operation.enum("output_format") or ()):
        # each in its own request: a provider that supports only some formats fails only those
        body = ctx.valid_body(operation, **extras, output_format=output_format)
        if "size" in enums:
            body["size"] = _smallest_size(enums["size"])
        if "b64_json" in enums.get("response_format", ()):
            body["response_format"] = "b64_json"  # the image itself, not a URL that may re-encode it
        case = _case(operation, f"output_format={output_format}", body, default_n, expected)
        cases.append(replace(case, output_format=output_format))
    if operation.extra_fields_allowed:
        body = ctx.valid_body(operation, **{UNKNOWN_FIELD: "tolerate me"})
        case = _case(operation, f"an unknown field {UNKNOWN_FIELD!r}", body, default_n, expected)
        cases.append(replace(case, requirements=("valid-request-accepted", "unknown-field-tolerated")))
        if ctx.profile.one_per_pair and operation.file_list_fields:
            # quick: one exchange judges both (an unknown field beside `image[]`), one image fewer per operation
            list_field = sorted(operation.file_list_fields)[0]
            body = {k: v for k, v in body.items() if k not in operation.file_fields - {"mask"}}
            body[list_field] = distinct_pngs(1)
            label = f"an unknown field {UNKNOWN_FIELD!r} beside {list_field} with 1 file"
            requirements = ("valid-request-accepted", "unknown-field-tolerated", "image-array-accepted")
            cases.append(replace(_case(operation, label, body, default_n, expected), requirements=requirements))
    for rule in operation.required_unless:
        # the other side of a field required unless another has a value: with that value, the field may be absent
        if all(ctx.limits.allowed(operation, name, (value,)) for name, value in rule.unless.items()):
            body = ctx.valid_body(operation, **extras, **rule.unless)
            label = f"{rule.describe()} without {', '.join(sorted(rule.required))}"
            cases.append(_case(operation, label, body, default_n, expected))
    if "mask" in operation.file_fields:
        masked = ctx.valid_body(operation, **extras, mask=ctx.mask())
        cases.append(_case(operation, "with a mask", masked, default_n, expected))
    for list_field in sorted(operation.file_list_fields):
        for count in sorted({ctx.limits.max_images(operation, count) for count in (1, 2, 3)}):
            files = distinct_pngs(count)
            body = ctx.valid_body(operation, **extras, **{list_field: files})
            for single in operation.file_fields - {"mask"}:
                body.pop(single, None)  # `image[]` alone: a gateway must not need the single-file part
            case = _case(operation, f"{list_field} with {count} file(s)", body, default_n, expected)
            cases.append(replace(case, requirements=("valid-request-accepted", "image-array-accepted")))
    if ctx.profile.one_per_pair:
        return _cheapest_cases(cases, ctx.smallest_size(operation) if "size" in enums else None)
    return cases


def _cheapest_cases(cases: list[Case], smallest: str | None) -> list[Case]:
    """One exchange per requirement: cases not about size ask for the smallest, then the cheapest cover is kept."""
    if smallest is not None:
        cases = [
            case if case.size is not None or case.label == "required fields only" else _sized(case, smallest)
            for case in cases
        ]
    return cheapest_cover(cases, _judged_by, lambda case: body_cost(case.body))


def _sized(case: Case, size: str) -> Case:
    return replace(case, body={**case.body, "size": size}, size=size)


def _judged_by(case: Case) -> set[str]:
    """Every requirement a case's 200 answer judges (see _judge and _judge_images)."""
    judged = {*case.requirements, "response-content-type", "response-schema", "data-count-matches-n"}
    answered = case.response_format or case.answered
    if answered == "b64_json":
        judged.add("b64-json-is-image")
    elif answered == "url":
        judged |= {"url-is-absolute", "url-serves-image"}
    if case.size is not None and _SIZE.match(case.size) and answered in ("b64_json", "url"):
        judged.add("image-dimensions-match-size")
    if case.output_format is not None:
        judged.add("image-format-matches-output-format")
    return judged


def _case(
    operation: OperationContract, label: str, body: dict[str, Any], default_n: int, answered: str | None = None
) -> Case:
    return Case(
        label=label,
        body=body,
        n=int(body.get("n", default_n)),
        size=_str(body.get("size")),
        # absent: the provider's default, which the seeds do not state (gpt-image-1 answers b64_json only)
        response_format=_str(body.get("response_format")),
        answered=answered,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _default_n(operation: OperationContract) -> int:
    default = operation.default("n")
    if isinstance(default, int):
        return default
    low, _ = _n_range(operation)
    return low if low is not None else 1


def _n_range(operation: OperationContract) -> tuple[int | None, int | None]:
    bounds = operation.integer_range("n")
    if bounds is None:
        return None, None
    low, high = bounds
    return (low if low is not None else 1), high


def _smallest_size(sizes: list[str]) -> str:
    smallest = smallest_of(sizes)
    assert smallest is not None, "called with the operation's size enum, never empty"
    return smallest


def judge_case(ctx: RunContext, operation: OperationContract, case: Case) -> list[Observation]:
    return guarded(case.requirements, operation, lambda: _judge(ctx, operation, case))


def _judge(ctx: RunContext, operation: OperationContract, case: Case) -> list[Observation]:
    # two-sided: marked, so a refusal can be traced to what the provider received; no field added (exact_fields):
    # which fields a case sends is what it tests ("required fields only")
    reply, trace = send_traced(ctx, operation, case.body, exact_fields=True)
    sent = f"valid request ({case.label})"
    problem = transport_problem(reply)
    if problem is None and reply.status != 200:
        problem = f"expected 200, got {reply.status}"
    observations = [
        observe(rid, operation, f"{sent}: {problem}" if problem else None, reply) for rid in case.requirements
    ]
    if problem is not None:
        return refused_on_the_way(ctx, trace, reply, observations)
    if reply.content_type != "application/json":
        observations.append(
            observe(
                "response-content-type",
                operation,
                f"{sent}: Content-Type is {reply.content_type or 'missing'!r}, expected application/json",
                reply,
            )
        )
        return observations
    observations.append(observe("response-content-type", operation, None, reply))
    body = reply.json()
    schema = schema_problem(operation.response_schema, body) or _created_problem(body)
    observations.append(observe("response-schema", operation, f"{sent}: {schema}" if schema else None, reply))
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return observations
    count = None if len(data) == case.n else f"{sent}: sent n={case.n}, got {len(data)} item(s) in data"
    observations.append(observe("data-count-matches-n", operation, count, reply))
    observations += _judge_images(ctx, operation, case, reply, data, sent)
    return observations


def _judge_images(
    ctx: RunContext, operation: OperationContract, case: Case, reply: Reply, data: list[Any], sent: str
) -> list[Observation]:
    observations: list[Observation] = []
    images: list[bytes] = []
    dimension_problems: list[str] = []
    format_problems: list[str] = []
    answered = case.response_format or _answered_format(data)
    if not data:  # no item: nothing to decode or fetch (data-count-matches-n judges the count)
        checks = {"b64_json": "b64-json-is-image", "url": "url-is-absolute"}
        return [skip(checks[answered], operation, f"{sent}: data is empty")] if answered in checks else []
    if answered == "b64_json":
        problems = []
        for index, item in enumerate(data):
            try:
                image = decode_b64(item.get("b64_json") if isinstance(item, dict) else None)
                fmt, width, height = decode_image(image)
            except NotAnImage as exc:
                problems.append(f"data[{index}].{exc}")
                continue
            images.append(image)
            dimension_problems += _dimension_problem(case, index, width, height)
            format_problems += _format_problem(case, index, fmt)
        with_images(reply, images)
        observations.append(
            observe("b64-json-is-image", operation, f"{sent}: {problems[0]}" if problems else None, reply)
        )
    elif answered == "url":
        urls: list[tuple[int, str]] = []
        problems = []
        for index, item in enumerate(data):
            url = item.get("url") if isinstance(item, dict) else None
            if isinstance(url, str) and urlsplit(url).scheme in {"http", "https"} and urlsplit(url).netloc:
                urls.append((index, url))
            else:
                problems.append(f"data[{index}].url is {url!r}, expected an absolute http(s) URL")
        observations.append(
            observe("url-is-absolute", operation, f"{sent}: {problems[0]}" if problems else None, reply)
        )
        for index, url in urls[:URLS_FETCHED]:
            fetched = _fetch(ctx, operation, case, index, url, sent)
            observations.append(fetched[0])
            if fetched[1] is not None:
                image, fmt, width, height = fetched[1]
                images.append(image)
                dimension_problems += _dimension_problem(case, index, width, height)
                format_problems += _format_problem(case, index, fmt)
        with_images(reply, images)
    if images and case.size is not None and _SIZE.match(case.size):
        message = f"{sent}: {dimension_problems[0]}" if dimension_problems else None
        observations.append(observe("image-dimensions-match-size", operation, message, reply))
    if images and case.output_format is not None:
        message = f"{sent}: {format_problems[0]}" if format_problems else None
        observations.append(observe("image-format-matches-output-format", operation, message, reply))
    return observations


def _answered_format(data: list[Any]) -> str | None:
    """With no response_format sent, the format the answer chose: b64_json when every item carries one (a string;
    an answer may hold both keys, the unused one null), else url (then judged as urls: an item with neither fails
    url-is-absolute). None for an empty data."""
    if not data:
        return None
    if all(isinstance(item, dict) and isinstance(item.get("b64_json"), str) for item in data):
        return "b64_json"
    return "url"


#: Pillow's name for each output_format value.
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}


def _format_problem(case: Case, index: int, fmt: str) -> list[str]:
    if case.output_format is None:
        return []
    expected = PILLOW_FORMATS.get(case.output_format.lower(), case.output_format.upper())
    return [] if fmt == expected else [f"data[{index}] is a {fmt} image, output_format={case.output_format}"]


def _fetch(
    ctx: RunContext, operation: OperationContract, case: Case, index: int, url: str, sent: str
) -> tuple[Observation, tuple[bytes, str, int, int] | None]:
    fetched = ctx.fetch(url)
    what = f"{sent}: GET data[{index}].url"
    if fetched.error is not None and fetched.status is None:
        # the gateway's own host is one the suite reaches, whatever the port; a CDN it cannot reach is not at fault
        reachable_host = urlsplit(url).hostname == urlsplit(ctx.target.base_url).hostname
        if not reachable_host:
            return Observation(
                "url-serves-image",
                operation.operation_id,
                False,
                f"{what}: unreachable ({fetched.error})",
                fetched.exchange,
                skipped=True,
            ), None
    problem = transport_problem(fetched)
    if problem is None and fetched.status != 200:
        problem = f"expected 200, got {fetched.status}"
    if problem is not None:
        return observe("url-serves-image", operation, f"{what}: {problem}", fetched), None
    try:
        fmt, width, height = decode_image(fetched.content)
    except NotAnImage as exc:
        return observe("url-serves-image", operation, f"{what}: {exc}", fetched), None
    with_images(fetched, [fetched.content])
    return observe("url-serves-image", operation, None, fetched), (fetched.content, fmt, width, height)


#: The earliest plausible `created`: 2001-09-09 (10**9 seconds). A cached answer may be old, so there is no lower
#: bound nearer now; an image API is younger than that, and milliseconds or a zero fail the bounds either way.
EARLIEST_CREATED = 10**9
#: How far ahead of the suite's clock `created` may be: generous, since the gateway's clock is not ours.
CLOCK_SLACK = 24 * 3600


def _created_problem(body: Any) -> str | None:
    """`created` is "Unix timestamp when the image was created" (seed 000): a plausible time in seconds, not in the
    future (beyond clock skew), not milliseconds, not zero. Not "near now": a cached answer keeps its first time."""
    created = body.get("created") if isinstance(body, dict) else None
    if not isinstance(created, int) or isinstance(created, bool):
        return None  # the schema judges its type and presence
    now = int(time.time())
    if not EARLIEST_CREATED <= created <= now + CLOCK_SLACK:
        bounds = f"between {EARLIEST_CREATED} and now, {now}"
        return f"created is {created}, not a plausible Unix timestamp in seconds ({bounds})"
    return None


def _dimension_problem(case: Case, index: int, width: int, height: int) -> list[str]:
    match = _SIZE.match(case.size or "")
    if match is None:
        return []
    expected = (int(match.group(1)), int(match.group(2)))
    if (width, height) == expected:
        return []
    return [f"data[{index}] is {width}x{height}, requested size {case.size}"]


GROUP = ValidGroup()
