"""Small judgements shared by the groups: turning a reply into observations, with messages saying what was expected."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from pixelpact.conformance.catalogue.evidence import accepted, rejected, unattributable
from pixelpact.conformance.engine.context import RunContext, smallest_of
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import thumbnail
from pixelpact.conformance.engine.model_limits import Refused, refused_field
from pixelpact.conformance.engine.profiles import P, one_per_pair
from pixelpact.conformance.model import Exchange, Observation, Unjudged
from pixelpact.conformance.wire.http import BudgetExhausted, Reply
from pixelpact.conformance.wire.limits import TOO_LARGE

#: Thumbnails kept per exchange, for the HTML report.
MAX_THUMBNAILS = 2


def observe(requirement_id: str, operation: OperationContract, problem: str | None, reply: Reply | None) -> Observation:
    """An observation that passed when `problem` is None, else failed with `problem` as its message."""
    return Observation(
        requirement_id=requirement_id,
        operation_id=operation.operation_id,
        passed=problem is None,
        message=problem or "",
        exchange=reply.exchange if reply is not None else None,
    )


def skip(
    requirement_id: str,
    operation: OperationContract,
    why: str,
    reason: Unjudged = Unjudged.NO_EVIDENCE,
    *,
    reply: Reply | None = None,
) -> Observation:
    """The requirement was not judged on this operation: `why` in words, `reason` as the reports count it, and the
    exchange that showed it (`reply`) when there was one."""
    return Observation(
        requirement_id,
        operation.operation_id,
        passed=False,
        message=why,
        exchange=exchange_of(reply),
        skipped=True,
        reason=reason,
    )


def guarded(
    requirement_ids: tuple[str, ...], operation: OperationContract, probe: Callable[[], list[Observation]]
) -> list[Observation]:
    """Run a probe; when the budget or the run's time is spent (or the target keeps answering 429), its requirements
    are reported not judged, with the reason."""
    try:
        return probe()
    except BudgetExhausted as exc:
        return [skip(requirement_id, operation, str(exc), exc.reason) for requirement_id in requirement_ids]


def with_images(reply: Reply, images: list[bytes]) -> None:
    """Attach thumbnails of returned images to the reply's evidence."""
    thumbs = tuple(t for t in (thumbnail(image) for image in images[:MAX_THUMBNAILS]) if t is not None)
    if thumbs:
        reply.exchange = replace(reply.exchange, images=reply.exchange.images + thumbs)


def transport_problem(reply: Reply) -> str | None:
    """The reason there is no usable response (dropped connection, timeout), or None."""
    if reply.error is not None:
        got = f"status {reply.status} then " if reply.status is not None else ""
        if reply.error.startswith(TOO_LARGE):
            return f"{got}an answer too large to hold: {reply.error}"
        return f"{got}no complete response: {reply.error}"
    return None


@dataclass(frozen=True)
class Control:
    """The answer to an operation's valid request, sent once per run and shared by the groups (invalid, robustness):
    a 4xx to an invalid variant of that request is a rejection of what was made invalid only when the valid request
    itself was accepted."""

    problem: str | None
    """None when the valid request got a 2xx; else what it got instead."""
    reason: Unjudged = Unjudged.NO_EVIDENCE
    """How the pairs that depend on it count when it was not accepted (budget: the budget ran out before it)."""


def control_body(ctx: RunContext, operation: OperationContract, **fields: Any) -> dict[str, Any]:
    """The valid request the control sends, and the base every invalid or hostile variant changes one thing of:
    the cheapest one (`RunContext.cheapest_body`), so that the control costs one small image and the variants that a
    gateway wrongly accepts cost no more; as b64_json where the operation offers it, so that its answer carries the
    image itself, which schemathesis's image checks and the properties then judge without another request."""
    return ctx.cheapest_body(operation, **{**cheapest_format(ctx, operation), **fields})


def cheapest_format(ctx: RunContext, operation: OperationContract) -> dict[str, Any]:
    """response_format b64_json where the operation offers it and the model takes it (a GPT image model answers
    base64 without being asked, and refuses the field)."""
    formats = ctx.limits.allowed(operation, "response_format", operation.enum("response_format") or ())
    return {"response_format": "b64_json"} if "b64_json" in formats else {}


def control(ctx: RunContext, operation: OperationContract) -> Control:
    """The operation's control (see `Control`): sent by the first group that needs it, before any of its probes, and
    reused by every later group of the run instead of sending it again. A control the budget refused is not kept:
    a later group tries again."""
    try:
        return ctx.shared.get(("control", operation.operation_id), lambda: _send_control(ctx, operation))
    except BudgetExhausted as exc:
        return Control(str(exc), exc.reason)


def _send_control(ctx: RunContext, operation: OperationContract) -> Control:
    # remembered: schemathesis's cheapest example and the properties' cheapest draw ask exactly this, and are
    # answered with this answer rather than making the provider draw the same image again
    body = control_body(ctx, operation)
    reply = ctx.send(operation, body, remember=True)
    tried: set[str] = set()
    # a model the table does not know: each field the provider names as refused is replaced once, by the next
    # cheapest value the spec allows (at most one retry per field, and MAX_LEARNED in all)
    while not accepted(reply.status) and len(tried) < MAX_LEARNED:
        name = _learned(ctx, operation, body, reply, tried)
        if name is None:
            break
        tried.add(name)
        body = control_body(ctx, operation)
        reply = ctx.send(operation, body, remember=True)
    problem = transport_problem(reply)
    if problem is None and not accepted(reply.status):
        problem = f"got {reply.status}"
    return Control(problem)


#: Retries of a refused control at most, each for another field the provider named.
MAX_LEARNED = 3


def _learned(
    ctx: RunContext, operation: OperationContract, body: dict[str, Any], reply: Reply, tried: set[str]
) -> str | None:
    """For a model the table does not know: the field of the control its provider refused, when the refusal names
    one the spec lets vary (the error's `param`, or the field quoted in the provider's error as the recording upstream
    kept it); the refused value is then learned (pixelpact.conformance.engine.model_limits). None: nothing to learn."""
    if ctx.limits.rules(operation) is not None or not rejected(reply.status) or unattributable(reply.status):
        return None
    document = reply.json()
    error = document.get("error") if isinstance(document, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    upstream = _provider_errors(ctx, body) if ctx.upstream is not None else []
    if param is None and not upstream:
        return None  # neither the error nor a recorded provider answer says what was refused
    messages = [*upstream, *([str(error.get("message"))] if isinstance(error, dict) else [])]
    varying = {name: value for name, value in body.items() if name not in operation.required_in(body) | operation.files}
    name = refused_field(varying, param, messages)
    if name is None or name in tried:
        return None
    value = body[name]
    spec_values = [v for v in operation.enum(name) or () if isinstance(v, str)]
    # the provider's message may list what it takes ("Supported values are: '1024x1024', ..."): keep to those
    supported = tuple(v for v in spec_values if v != value and any(f"'{v}'" in message for message in messages))
    instead = smallest_of(supported or [v for v in spec_values if v != value]) if name == "size" else None
    if name != "size" and supported:
        instead = supported[0]
    ctx.limits.learn(Refused(operation.operation_id, name, value, instead, messages[0][:200], supported))
    return name


def _provider_errors(ctx: RunContext, body: dict[str, Any]) -> list[str]:
    """The errors the recording upstream answered to requests carrying the control's prompt, newest first."""
    from pixelpact.conformance.groups._upstream import Recording, UpstreamError, record_values

    assert ctx.upstream is not None
    try:
        records = Recording(ctx.upstream).records()
    except UpstreamError:
        return []
    prompt = body.get("prompt")
    return [
        str(record.get("error"))
        for record in reversed(records)
        if isinstance(record.get("status"), int)
        and record["status"] >= 400
        and record.get("error")
        and (prompt is None or record_values(record).get("prompt") == prompt)
    ][:1]


def controls(ctx: RunContext) -> dict[str, Control]:
    """operation id -> its `Control`, for every operation of the run."""
    return {
        operation.operation_id: answer
        for operation, answer in zip(ctx.operations, ctx.map(lambda op: control(ctx, op), ctx.operations), strict=True)
    }


def judge_probes(
    ctx: RunContext,
    probes_for: Callable[[RunContext, OperationContract], Sequence[P]],
    judge: Callable[[RunContext, OperationContract, P, Control], list[Observation]],
) -> tuple[dict[str, Control], Iterator[Observation]]:
    """A deterministic group's run: its probes for every operation (quick: the cheapest per pair), then each
    operation's valid control request (sent before any probe, unless an earlier group of the run sent it: see
    `control`), then the probes' observations as they come.

    Returns the controls too: a group may judge more against them once every probe is done (still-answering)."""
    probes = [
        (operation, probe)
        for operation in ctx.operations
        for probe in one_per_pair(ctx.profile, probes_for(ctx, operation))
    ]
    valid = controls(ctx)

    def observations() -> Iterator[Observation]:
        for observed in ctx.map(lambda item: judge(ctx, *item, valid[item[0].operation_id]), probes):
            yield from observed

    return valid, observations()


def expect_rejection(
    requirement_id: str, operation: OperationContract, reply: Reply, sent: str, valid: Control
) -> Observation:
    """Passed when the invalid request `sent` got a 4xx attributable to it (pixelpact.conformance.catalogue.evidence)
    while the valid request was accepted; failed on a 2xx, 5xx or no answer; not judged when the answer says nothing
    about what was sent (401, 403, 404, 405, 429, a redirect) or the valid request was refused too."""
    problem = transport_problem(reply)
    if problem is not None:
        return observe(requirement_id, operation, f"{sent}: expected a 4xx, got {problem}", reply)
    assert reply.status is not None
    why = unattributable(reply.status)
    if why is not None:
        return skip(requirement_id, operation, f"{sent}: got {why}; that is no rejection of what was sent", reply=reply)
    if not rejected(reply.status):
        return observe(requirement_id, operation, f"{sent}: expected a 4xx, got {reply.status}", reply)
    if valid.problem is not None:
        message = (
            f"{sent}: got {reply.status}, but the valid request was refused too ({valid.problem}): "
            "the 4xx is not attributable to what was made invalid"
        )
        return skip(requirement_id, operation, message, valid.reason, reply=reply)
    return observe(requirement_id, operation, None, reply)


def error_body_problem(reply: Reply, operation: OperationContract) -> str | None:
    """None when an error reply carries the spec's error body: JSON, `error` object, non-empty string `message`."""
    if reply.status is None:
        return None  # no response at all: judged by the status requirement, not here
    body = reply.json()
    where = f"the {reply.status} body"
    if not isinstance(body, dict):
        return f"{where} is not a JSON object (Content-Type {reply.content_type or 'missing'})"
    if reply.content_type != "application/json":
        return f"{where} is JSON but its Content-Type is {reply.content_type or 'missing'!r}, not application/json"
    error = body.get("error")
    if not isinstance(error, dict):
        return f"{where} has no `error` object"
    message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        return f"{where}: error.message is {message!r}, expected a non-empty string"
    if operation.error_schema is not None:
        problem = schema_problem(operation.error_schema, body)
        if problem is not None:
            return f"{where} does not match the spec's error schema: {problem}"
    return None


def schema_problem(schema: Mapping[str, Any], instance: Any) -> str | None:
    """The first way `instance` breaks `schema` (with its JSON path), or None."""
    error = next(iter(_validator(_Frozen(schema)).iter_errors(instance)), None)
    if error is None:
        return None
    path = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)
    return f"at body{path}: {error.message[:300]}"


class _Frozen:
    """Hashable wrapper by identity, so one validator is built per schema object (schemas are built once per run)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema

    def __hash__(self) -> int:
        return id(self.schema)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.schema is self.schema


@lru_cache(maxsize=128)
def _validator(schema: _Frozen) -> Any:
    return Draft202012Validator(schema.schema)


def exchange_of(reply: Reply | None) -> Exchange | None:
    return reply.exchange if reply is not None else None
