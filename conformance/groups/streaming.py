"""Streaming: `stream: true` on the operations whose 200 offers text/event-stream. The stream must be
text/event-stream, every `data:` line JSON with a `type` from the spec (an optional `data: [DONE]` and `:` comment
lines allowed), partial images indexed, at least one completed event per image carrying a decodable image, and no
server error on the way. response_format with stream may be ignored or rejected: both pass.

In two-sided runs (--upstream-port) each stream request carries a fresh marker (prompt, user), and a failed one
reads its record at the recording upstream to say where it broke: the provider answered 2xx and the gateway failed
it (GATEWAY_FAULT: the finding's where is "gateway"), the provider failed it and the gateway passed that on (where:
"provider"), the gateway dropped `stream` on the way, or nothing reached the provider. No extra request goes to the
gateway for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from pixelpact.conformance.catalogue.evidence import unattributable
from pixelpact.conformance.catalogue.findings import GATEWAY_FAULT
from pixelpact.conformance.catalogue.requirements import STREAMING
from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import NotAnImage, decode_b64, decode_image
from pixelpact.conformance.groups._judge import (
    error_body_problem,
    guarded,
    observe,
    schema_problem,
    skip,
    transport_problem,
    with_images,
)
from pixelpact.conformance.groups._upstream import (
    Outcome,
    Probe,
    Recording,
    UpstreamError,
    marked,
    record_values,
    seen_by,
    where_it_broke,
)
from pixelpact.conformance.model import Observation, Seen, Unjudged
from pixelpact.conformance.wire.http import Reply

#: Images asked for in the stream: more than one, so "one completed event per image" is tested, not assumed.
STREAM_N = 2
_SIZE = re.compile(r"^\d+x\d+$")
STREAM_REQUIREMENTS = (
    "stream-content-type",
    "stream-event-types",
    "stream-partial-index",
    "stream-completed-per-image",
    "stream-no-server-error",
)
#: The requirements whose failures say where the stream broke, in two-sided runs.
LOCATED = frozenset({*STREAM_REQUIREMENTS, "stream-response-format-tolerated"})


@dataclass(frozen=True)
class Stream:
    """A parsed event stream: the JSON of each `data:` line (None where it was not JSON), and whether it ended
    with `[DONE]`."""

    events: list[Any]
    raw_data: list[str]
    done: bool
    names: list[str | None] = field(default_factory=list)
    """Each event's SSE `event:` name, None when it had none."""


def parse_sse(text: str) -> Stream:
    """Parse server-sent events: `data:` lines joined per event; `:` comments, `event:`, `id:`, `retry:` skipped."""
    events: list[Any] = []
    raw: list[str] = []
    names: list[str | None] = []
    done = False
    pending: list[str] = []
    name: str | None = None

    def flush() -> None:
        nonlocal done, name
        data, event_name = "\n".join(pending), name
        pending.clear()
        name = None
        if not data and event_name is None:
            return
        if data.strip() == "[DONE]":
            done = True
            return
        raw.append(data)
        names.append(event_name)
        try:
            events.append(json.loads(data))
        except ValueError:
            events.append(None)

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            flush()
        elif line.startswith("data:"):
            pending.append(_field_value(line[5:]))
        elif line.startswith("event:"):
            name = _field_value(line[6:])
    flush()
    return Stream(events, raw, done, names)


def _field_value(value: str) -> str:
    return value[1:] if value.startswith(" ") else value


class StreamingGroup:
    name = "streaming"
    requirements = STREAMING

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        streaming = [
            operation for operation in ctx.operations if operation.streams and "stream" in operation.properties
        ]
        for operation in streaming:
            if not ctx.limits.takes(operation, "stream"):
                why = ctx.limits.why_not(operation, "stream")
                for requirement_id in (*STREAM_REQUIREMENTS, "stream-response-format-tolerated"):
                    yield skip(requirement_id, operation, why, Unjudged.NOT_APPLICABLE)
        streaming = [operation for operation in streaming if ctx.limits.takes(operation, "stream")]
        for observations in ctx.map(lambda operation: _run(ctx, operation), streaming):
            yield from observations


def _run(ctx: RunContext, operation: OperationContract) -> list[Observation]:
    """The plain stream first: whether it started decides what a rejection of the response_format variant means."""
    started: list[bool] = []
    observations = guarded(STREAM_REQUIREMENTS, operation, lambda: judge_stream(ctx, operation, started))
    if "response_format" not in operation.properties:
        return observations
    if not ctx.limits.takes(operation, "response_format"):
        why = ctx.limits.why_not(operation, "response_format")
        return [*observations, skip("stream-response-format-tolerated", operation, why, Unjudged.NOT_APPLICABLE)]
    tolerated = guarded(
        ("stream-response-format-tolerated",), operation, lambda: judge_response_format(ctx, operation, bool(started))
    )
    return [*observations, *tolerated]


def stream_body(ctx: RunContext, operation: OperationContract, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"stream": True}
    bounds = operation.integer_range("n")
    if bounds is not None:
        n_low, n_high = ctx.limits.n_range(operation, bounds[0] or 1, bounds[1])
        wanted = 1 if ctx.profile.one_per_pair else STREAM_N  # quick: one image, still one completed event per image
        body["n"] = max(n_low, min(wanted, n_high if n_high is not None else wanted))
    partial = operation.integer_range("partial_images")
    if partial is not None and ctx.limits.takes(operation, "partial_images"):
        low, high = partial
        body["partial_images"] = max(low or 0, min(1, high if high is not None else 1))
    smallest = ctx.smallest_size(operation)
    if smallest is not None:
        body["size"] = smallest
    if "model" in operation.properties:
        body["model"] = ctx.model
    body.update(fields)
    return ctx.valid_body(operation, **body)


def judge_stream(ctx: RunContext, operation: OperationContract, started: list[bool] | None = None) -> list[Observation]:
    """Judge one stream request; appends True to `started` when a 200 text/event-stream came back."""
    body, reply, probe = send_stream(ctx, operation, stream_body(ctx, operation))
    return located(ctx, probe, reply, _judged_stream(operation, body, reply, started))


def _judged_stream(
    operation: OperationContract, body: dict[str, Any], reply: Reply, started: list[bool] | None
) -> list[Observation]:
    n = int(body.get("n", 1))
    sent = f"stream: true with n={n}" + (
        f", partial_images={body['partial_images']}" if "partial_images" in body else ""
    )
    why = unattributable(reply.status)
    if why is not None:
        # the gateway never read the request: nothing about its streams is known
        return [skip(rid, operation, f"{sent}: got {why}", reply=reply) for rid in STREAM_REQUIREMENTS]
    failed = transport_problem(reply) if reply.status is None else None
    if failed is None and reply.status != 200:
        failed = f"expected 200, got {reply.status}"
    if failed is not None:
        server_error = reply.status is None or reply.status >= 500
        observations = [
            observe(rid, operation, f"{sent}: {failed}", reply)
            for rid in STREAM_REQUIREMENTS
            if rid not in ("stream-no-server-error", "stream-partial-index")
        ]
        observations.append(skip("stream-partial-index", operation, f"{sent}: {failed}: no stream", reply=reply))
        if server_error:
            return [*observations, observe("stream-no-server-error", operation, f"{sent}: {failed}", reply)]
        return [*observations, skip("stream-no-server-error", operation, f"{sent}: {failed}: no stream", reply=reply)]
    if reply.content_type == "text/event-stream" and started is not None:
        started.append(True)
    observations = []
    content_type = (
        None
        if reply.content_type == "text/event-stream"
        else (f"{sent}: Content-Type is {reply.content_type or 'missing'!r}, expected text/event-stream")
    )
    observations.append(observe("stream-content-type", operation, content_type, reply))
    stream = parse_sse(reply.text)
    observations.append(observe("stream-event-types", operation, _event_type_problem(operation, stream, sent), reply))
    partials = body.get("partial_images")
    limit = partials if isinstance(partials, int) else None
    if any(_is_partial(event) for event in stream.events):
        partial = _partial_problem(stream, sent, limit, n)
        observations.append(observe("stream-partial-index", operation, partial, reply))
    else:  # fewer partial events than asked are allowed, none included: then there is no index to judge
        observations.append(skip("stream-partial-index", operation, f"{sent}: no partial event came", reply=reply))
    images, completed = _completed(stream)
    with_images(reply, images)
    observations.append(observe("stream-completed-per-image", operation, _completed_problem(completed, n, sent), reply))
    size = body.get("size")
    if images and isinstance(size, str) and _SIZE.match(size):
        observations.append(observe("image-dimensions-match-size", operation, _size_problem(images, size, sent), reply))
    if reply.content_type == "text/event-stream" or reply.error is not None:
        problem = _server_error_problem(reply, stream, sent)
        observations.append(observe("stream-no-server-error", operation, problem, reply))
    else:
        why = f"{sent}: the 200 is {reply.content_type or 'untyped'}, not a stream"
        observations.append(skip("stream-no-server-error", operation, why, reply=reply))
    return observations


def _event_type_problem(operation: OperationContract, stream: Stream, sent: str) -> str | None:
    if not stream.events:
        return f"{sent}: the stream has no data events"
    family = event_family(operation)
    for index, (event, raw) in enumerate(zip(stream.events, stream.raw_data, strict=True)):
        if not isinstance(event, dict):
            return f"{sent}: event {index}'s data is not a JSON object: {raw[:120]!r}"
        if event.get("type") not in operation.stream_event_types:
            allowed = ", ".join(operation.stream_event_types)
            return f"{sent}: event {index} has type {event.get('type')!r}, expected one of {allowed}"
        kind = str(event["type"]).split(".", 1)[0]
        if family is not None and "." in event["type"] and kind != family:
            return f"{sent}: event {index} has type {event['type']!r}, but a {operation.kind} stream uses {family}.*"
        name = stream.names[index] if index < len(stream.names) else None
        if name is not None and name != event["type"]:
            # Image*StreamEventType: "also sent as the SSE `event:` name"; no event line at all is fine too
            return f"{sent}: event {index} is named {name!r} but its data has type {event['type']!r}"
        if operation.stream_event_schema is not None:
            problem = schema_problem(operation.stream_event_schema, event)
            if problem is not None:
                return f"{sent}: event {index} does not match the spec's event schema: {problem}"
    return None


def _size_problem(images: list[bytes], size: str, sent: str) -> str | None:
    for index, image in enumerate(images):
        _, width, height = decode_image(image)
        if f"{width}x{height}" != size:
            return f"{sent}: completed image {index} is {width}x{height}, requested size {size}"
    return None


def event_family(operation: OperationContract) -> str | None:
    """The prefix of the event types this operation's stream uses, read from the spec's enum: the one naming the
    operation's kind ("image_generation" for generations, "image_edit" for edits), or None when none or several do.
    """
    singular = operation.kind.rstrip("s")
    prefixes = {t.split(".", 1)[0] for t in operation.stream_event_types if "." in t}
    matching = [prefix for prefix in prefixes if prefix.endswith("_" + singular)]
    return matching[0] if len(matching) == 1 else None


def _partial_problem(stream: Stream, sent: str, requested: int | None, n: int) -> str | None:
    """Partial events carry an index in [0, partial_images), and there are at most partial_images per image
    (PartialImages: "Number of partial images to stream before each completed image"; fewer are allowed)."""
    count = 0
    for index, event in enumerate(stream.events):
        if _is_partial(event):
            count += 1
            value = event.get("partial_image_index")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return f"{sent}: partial event {index} has partial_image_index {value!r}, expected an integer >= 0"
            # per image or across the images: gateways number both ways, so only the larger bound is sure
            if requested is not None and value >= requested * n:
                return f"{sent}: partial event {index} has partial_image_index {value}, but partial_images={requested}"
    if requested is not None and count > requested * n:
        return f"{sent}: {count} partial events, more than partial_images={requested} for each of {n} image(s)"
    return None


def _is_partial(event: Any) -> bool:
    return isinstance(event, dict) and str(event.get("type", "")).endswith(".partial_image")


def _completed(stream: Stream) -> tuple[list[bytes], list[str | None]]:
    """The decoded images of the completed events, and per completed event a problem (None when it is fine)."""
    images: list[bytes] = []
    problems: list[str | None] = []
    for event in stream.events:
        if not (isinstance(event, dict) and str(event.get("type", "")).endswith(".completed")):
            continue
        try:
            image = decode_b64(event.get("b64_json"))
            decode_image(image)
        except NotAnImage as exc:
            problems.append(str(exc))
            continue
        images.append(image)
        problems.append(None)
    return images, problems


def _completed_problem(completed: list[str | None], n: int, sent: str) -> str | None:
    bad = [problem for problem in completed if problem is not None]
    if bad:
        return f"{sent}: a completed event's {bad[0]}"
    if len(completed) < n:
        return f"{sent}: {len(completed)} completed event(s), expected at least one per image ({n})"
    return None


def _server_error_problem(reply: Reply, stream: Stream, sent: str) -> str | None:
    if reply.error is not None:
        return f"{sent}: the stream broke off: {reply.error}"
    for index, event in enumerate(stream.events):
        if isinstance(event, dict) and (event.get("type") == "error" or ("error" in event and "type" not in event)):
            return f"{sent}: event {index} is an error: {json.dumps(event)[:200]}"
    return None


def judge_response_format(ctx: RunContext, operation: OperationContract, stream_started: bool) -> list[Observation]:
    """stream with response_format: ignored (a stream) or rejected (a 4xx with the error body) both pass; a
    rejection counts only when the same stream without response_format started (`stream_started`)."""
    values = operation.enum("response_format") or ("url",)
    value = "url" if "url" in values else values[0]
    _, reply, probe = send_stream(ctx, operation, stream_body(ctx, operation, response_format=value))
    return located(ctx, probe, reply, _judged_response_format(operation, reply, value, stream_started))


def _judged_response_format(
    operation: OperationContract, reply: Reply, value: str, stream_started: bool
) -> list[Observation]:
    requirement_id = "stream-response-format-tolerated"
    sent = f"stream: true with response_format={value}"
    problem = transport_problem(reply)
    if problem is None:
        assert reply.status is not None
        why = unattributable(reply.status)
        if why is not None:
            return [skip(requirement_id, operation, f"{sent}: got {why}", reply=reply)]
        if 400 <= reply.status < 500:
            if not stream_started:
                why = f"{sent}: got {reply.status}, but the stream without response_format did not start either"
                return [skip(requirement_id, operation, why, reply=reply)]
            body_problem = error_body_problem(reply, operation)
            problem = f"rejected, but {body_problem}" if body_problem else None
        elif reply.status == 200:
            stream = parse_sse(reply.text)
            if reply.content_type != "text/event-stream":
                problem = f"accepted, but Content-Type is {reply.content_type or 'missing'!r}, not text/event-stream"
            else:
                # these name what was sent themselves
                found = _event_type_problem(operation, stream, sent) or _server_error_problem(reply, stream, sent)
                return [observe(requirement_id, operation, found, reply)]
        else:
            problem = f"expected a stream (ignored) or a 4xx (rejected), got {reply.status}"
    return [observe(requirement_id, operation, f"{sent}: {problem}" if problem else None, reply)]


# --- two-sided: where a stream broke ---------------------------------------------------------------------------------


def send_stream(
    ctx: RunContext, operation: OperationContract, body: dict[str, Any]
) -> tuple[dict[str, Any], Reply, Probe | None]:
    """Send a stream request; in two-sided runs marked (prompt, user) so its record at the upstream can be found."""
    probe = marked(operation, "stream", body, files=None) if ctx.upstream is not None else None
    if probe is not None:
        body = probe.body
    return body, ctx.send(operation, body), probe


def located(ctx: RunContext, probe: Probe | None, reply: Reply, observations: list[Observation]) -> list[Observation]:
    """The observations, with each failed stream requirement saying where the stream broke (two-sided runs only):
    the upstream's recording is read once, for failed requests only."""
    failing = {id(o) for o in observations if not o.passed and not o.skipped and o.requirement_id in LOCATED}
    if probe is None or ctx.upstream is None or not failing:
        return observations
    try:
        accepted = reply.status is not None and reply.status < 300
        outcome = Outcome(probe, reply, Recording(ctx.upstream).matching(probe, expect=accepted))
    except UpstreamError as exc:
        note, cause, seen = f"where it broke is unknown: {exc}", None, None
    else:
        note, cause = stream_broke(outcome)
        seen = Seen.CHANGED if cause is not None and cause != GATEWAY_FAULT else seen_by(outcome)
    return [
        replace(o, message=f"{o.message}; {note}", cause=o.cause or cause, seen=seen) if id(o) in failing else o
        for o in observations
    ]


def stream_broke(outcome: Outcome) -> tuple[str, str | None]:
    """Where a failed stream request broke, as a sentence, and the cause the findings cluster on (GATEWAY_FAULT when
    the provider answered 2xx; "dropped:stream" or "changed:stream" when the provider was never asked for a stream)."""
    status = outcome.reply.status
    # the last record: a gateway that retried is judged by the provider's final answer
    answered = outcome.records[-1].get("status") if outcome.records else None
    if isinstance(answered, int) and answered < 300:
        values = record_values(outcome.records[-1])
        if not values.get("_truncated"):  # a summarised body says nothing of its fields
            if "stream" not in values:
                why = f"the provider was asked for no stream (the gateway dropped stream) and answered {answered}"
                return why, "dropped:stream"
            if str(values["stream"]).lower() != "true":
                received = values["stream"]
                why = f"stream: the client sent true, the provider received {received!r} and answered {answered}"
                return why, "changed:stream"
    if status is None:
        failure = f"the gateway gave {outcome.client_status}"
    elif status >= 300:
        failure = f"the gateway answered {status}"
    elif outcome.reply.error is not None:
        failure = "the gateway's stream broke off"  # the failure's own message names the error
    else:
        failure = f"the gateway's {status} did not carry the provider's stream through"
    return where_it_broke(outcome, "stream request", failure)


GROUP = StreamingGroup()
