"""Two-sided checks: what a gateway forwards to the provider behind it, seen by a recording upstream.

`pixelpact check --base-url GATEWAY --upstream-port PORT` runs the stub gateway as the provider behind the gateway
(`recording_upstream`, which `pixelpact.conformance.api.check` keeps running for the whole run, so every group's
requests reach it). The gateway must be pointed at it beforehand: its OpenAI provider at http://127.0.0.1:PORT (or
.../v1, by what the gateway asks for), its Azure provider at the endpoint http://127.0.0.1:PORT; the command prints
how (pixelpact.conformance.engine.upstream). The stub records every request it serves; this group sends requests
through the gateway and reads the recording to judge what arrived:

- prompt, n, size, response_format and user arrive as the client sent them;
- a variation's image[] of several files arrives as exactly the first file; an edit's files and mask all arrive;
- invalid input gets a 4xx, and the report says whether the gateway or the provider rejected it;
- with the provider failing the primary model (the upstream fails FAILING_MODEL on purpose), a request with
  fallbacks is answered by the fallback after the provider saw the primary attempt(s);
- a request with every optional field arrives with each field as sent (pixelpact.conformance.groups.comparison);
- the provider sees the gateway's own credentials, never the client's key, nothing or a placeholder, whether the
  client sent a key or not.

The recording upstream plays a provider (`StubConfig(provider=True)`): it knows nothing of fallbacks and asks for
no key, so it never does the gateway's job for it.

Requests are matched to upstream records by a fresh marker in the prompt and user and by the sha256 of image
files made for one probe only, so custom headers (which gateways drop) are not needed and concurrent probes do
not mix up (pixelpact.conformance.groups._upstream, which the streaming group shares).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pixelpact.conformance.catalogue.evidence import rejected, unattributable
from pixelpact.conformance.catalogue.findings import GATEWAY_FAULT, PASSED_ON
from pixelpact.conformance.catalogue.requirements import FORWARDING
from pixelpact.conformance.engine.context import CHEAPEST_QUALITIES, RunContext, auth_headers, secret_forms, smallest_of
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import mask_png
from pixelpact.conformance.engine.upstream import FAILING_MODEL
from pixelpact.conformance.groups._judge import guarded, observe, skip
from pixelpact.conformance.groups._upstream import (
    UPSTREAM_UNREACHED,
    Outcome,
    Probe,
    Recording,
    UpstreamError,
    file_sha256,
    filtered_out,
    new_probe,
    record_files,
    record_values,
    seen_by,
)
from pixelpact.conformance.groups.comparison import compare, placeholder_credential, same
from pixelpact.conformance.model import Observation, Seen, Unjudged
from pixelpact.conformance.wire.http import Reply
from pixelpact.generator.runtime.credentials import KEY_HEADERS

#: The fields whose forwarding is checked, with their requirement ids.
FORWARDED_FIELDS: tuple[tuple[str, str], ...] = (
    ("prompt", "forwarded-prompt"),
    ("n", "forwarded-n"),
    ("size", "forwarded-size"),
    ("response_format", "forwarded-response-format"),
    ("user", "forwarded-user"),
)


# --- the group ----------------------------------------------------------------------------------------------------


class ForwardingGroup:
    """Checks the gateway's provider side through the recording upstream (skipped without --upstream)."""

    name = "forwarding"
    requirements = FORWARDING

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        upstream = ctx.upstream
        if upstream is None:
            for operation in ctx.operations:
                for requirement in applicable(operation):
                    yield skip(
                        requirement,
                        operation,
                        "no --upstream-port: the two-sided checks need the recording upstream behind the gateway",
                        Unjudged.NOT_APPLICABLE,
                    )
            return
        recording = Recording(upstream)
        checks: list[Callable[[], list[Observation]]] = []
        for operation in ctx.operations:
            checks.extend(checks_for(ctx, recording, operation))
        for observations in ctx.map(lambda check: check(), checks):
            yield from observations


def applicable(operation: OperationContract) -> list[str]:
    """The forwarding requirements that apply to an operation, given its request schema."""
    ids = [requirement_id for name, requirement_id in FORWARDED_FIELDS if name in operation.properties]
    if operation.kind == "variations" and "image[]" in operation.file_list_fields:
        ids.append("variation-first-file-forwarded")
    if operation.kind == "edits" and operation.files:
        ids.append("edit-files-forwarded")
    if _has_range_or_enum(operation):
        ids.append("rejection-source-reported")
    if "fallbacks" in operation.properties:
        ids.append("fallback-after-primary-failure")
    ids.append("gateway-credentials-upstream")
    ids.append("request-forwarded-intact")
    ids.append("provider-answer-relayed")
    return ids


def checks_for(
    ctx: RunContext, recording: Recording, operation: OperationContract
) -> list[Callable[[], list[Observation]]]:
    wanted = set(applicable(operation))
    checks: list[Callable[[], list[Observation]]] = [lambda: check_fields(ctx, recording, operation, wanted)]
    if "variation-first-file-forwarded" in wanted:
        checks.append(lambda: check_variation_files(ctx, recording, operation))
    if "edit-files-forwarded" in wanted:
        checks.append(lambda: check_edit_files(ctx, recording, operation))
    if "rejection-source-reported" in wanted:
        checks.append(lambda: check_rejections(ctx, recording, operation))
    if "fallback-after-primary-failure" in wanted:
        checks.append(lambda: check_fallback(ctx, recording, operation))
    checks.append(lambda: check_intact(ctx, recording, operation))
    return checks


def send(
    ctx: RunContext, recording: Recording, operation: OperationContract, probe: Probe, *, client_key_: bool = True
) -> Outcome:
    """Send a probe with the client's credentials (a marker key of our own when the gateway is open, unless not
    `client_key_`: then an open gateway gets no key at all)."""
    request = ctx.request(operation, probe.body)
    if not ctx.target.api_key and client_key_:
        # An open gateway ignores this key; a gateway that forwards the client's Authorization is caught by it.
        request = replace(request, headers={**request.headers, **auth_headers(ctx.target.auth, client_key(probe))})
    reply = ctx.sender.send(request)
    accepted = reply.status is not None and reply.status < 300
    return Outcome(probe, reply, recording.matching(probe, expect=accepted))


def located(observation: Observation, outcome: Outcome, cause: str | None = None) -> Observation:
    """A failed observation saying what the provider saw of its probe: never reached, answered or failed it as sent, or
    (with `cause`, or when the probe reached it changed) a changed request."""
    if observation.passed or observation.skipped:
        return observation
    seen = seen_by(outcome) if not outcome.records or cause is None else Seen.CHANGED
    return replace(observation, seen=seen, cause=observation.cause or cause)


def client_key(probe: Probe) -> str:
    return f"sk-pixelpact-client-{probe.marker}"


# --- prompt, n, size, response_format, user (and the credentials on the same request) -------------------------------


def check_fields(
    ctx: RunContext, recording: Recording, operation: OperationContract, wanted: set[str]
) -> list[Observation]:
    fields = {name: requirement_id for name, requirement_id in FORWARDED_FIELDS if requirement_id in wanted}
    ids = (*fields.values(), "gateway-credentials-upstream")

    def probe() -> list[Observation]:
        values = _distinctive_values(ctx, operation)
        outcome = send(ctx, recording, operation, new_probe(ctx, operation, "params", **values))
        sent = {name: outcome.probe.body[name] for name in fields if name in outcome.probe.body}
        observations = []
        for name, requirement_id in fields.items():
            if not ctx.limits.takes(operation, name):
                why = ctx.limits.why_not(operation, name)
                observations.append(skip(requirement_id, operation, why, Unjudged.NOT_APPLICABLE))
                continue
            problem = _unreached(outcome) or _field_problem(name, sent.get(name), outcome.records)
            observation = observe(requirement_id, operation, problem, outcome.reply)
            observations.append(
                replace(located(observation, outcome), seen=Seen.CHANGED)
                if problem and outcome.records
                else located(observation, outcome)
            )
        observations.append(_credentials(ctx, operation, outcome))
        observations.append(_relayed(operation, outcome))
        return observations

    return _guard((*ids, "provider-answer-relayed"), operation, probe)


def _relayed(operation: OperationContract, outcome: Outcome) -> Observation:
    """Whether the provider's 2xx reached the client as a 2xx: the gateway's own failure told from the provider's."""
    requirement_id = "provider-answer-relayed"
    answered = [record.get("status") for record in outcome.records]
    status = outcome.reply.status
    if answered and isinstance(answered[-1], int) and answered[-1] >= 400 and answered[-1] == status:
        # the provider's own failure, passed on faithfully: the findings say it broke at the provider
        return _passed(requirement_id, operation, f"the provider answered {status}; {PASSED_ON}", outcome.reply)
    if not answered or not all(isinstance(status, int) and status < 300 for status in answered[-1:]):
        why = "the provider did not answer the request with a 2xx: nothing to relay"
        return skip(requirement_id, operation, why)
    if status is not None and status < 300 and outcome.reply.error is None:
        return observe(requirement_id, operation, None, outcome.reply)
    problem = f"the provider answered {answered[-1]}, the gateway answered {outcome.client_status}"
    observation = observe(requirement_id, operation, problem, outcome.reply)
    return replace(observation, cause=GATEWAY_FAULT, seen=Seen.ANSWERED)


def _distinctive_values(ctx: RunContext, operation: OperationContract) -> dict[str, Any]:
    """Valid values that differ from the defaults, so a gateway that drops a field is seen dropping it."""
    rng = ctx.random("forwarding", operation.operation_id)
    values: dict[str, Any] = {}
    bounds = operation.integer_range("n")
    if bounds is not None:
        low, high = ctx.limits.n_range(operation, bounds[0] or 1, bounds[1] or 10)
        high = high if high is not None else 10
        default = operation.default("n")
        # the model's only n may be the default (dall-e-3: 1): sent all the same, a dropped n is still seen
        values["n"] = next((value for value in (2, low, high) if low <= value <= high and value != default), low)
    for name in ("size", "response_format"):
        allowed = ctx.limits.allowed(operation, name, operation.enum(name) or ())
        choices = [value for value in allowed if value not in {"auto", operation.default(name)}]
        if choices:
            values[name] = rng.choice(sorted(map(str, choices)))
            if name == "size" and ctx.limits.rules(operation) is not None:
                # a real model bills by size: the smallest non-default one shows a dropped size as well as any
                values[name] = smallest_of(map(str, choices))
    return values


def _unreached(outcome: Outcome) -> str | None:
    if outcome.records:
        return None
    return f"{UPSTREAM_UNREACHED} (the gateway answered {outcome.client_status}), so it forwarded nothing to judge"


def _field_problem(name: str, sent: Any, records: Sequence[Mapping[str, Any]]) -> str | None:
    for record in records:
        values = record_values(record)
        if name not in values:
            return f"{name} did not reach the upstream (the client sent {sent!r}; the gateway dropped it)"
        received = values[name]
        if not same(name, sent, received, multipart=record.get("parts") is not None):
            return f"{name}: the client sent {sent!r}, the upstream received {received!r}"
    return None


def _credentials(ctx: RunContext, operation: OperationContract, outcome: Outcome) -> Observation:
    requirement_id = "gateway-credentials-upstream"
    problem = _unreached(outcome)
    if problem is None:
        key = ctx.target.api_key or client_key(outcome.probe)
        leaked = {_redacted(form) for form in secret_forms(key)}
        for record in outcome.records:
            headers = record.get("headers") or {}
            sent = {name: str(headers[name]) for name in KEY_HEADERS if name in headers}
            placeholder = placeholder_credential(sent, KEY_HEADERS)
            if not sent:
                problem = (
                    "no credential reached the upstream (no Authorization or api-key header): expected the gateway's"
                )
                problem += " own key"
            elif placeholder is not None:
                problem = f"the provider received a placeholder credential ({placeholder}), not the gateway's own key"
                return located(
                    observe(requirement_id, operation, problem, outcome.reply), outcome, "placeholder-credential"
                )
            elif any(mark in value for value in sent.values() for mark in leaked):
                names = ", ".join(sorted(sent))
                problem = f"the client's key reached the upstream (in {names}) instead of the gateway's own credentials"
                return located(observe(requirement_id, operation, problem, outcome.reply), outcome, "client-credential")
            if problem:
                return located(
                    observe(requirement_id, operation, problem, outcome.reply), outcome, "missing-credential"
                )
    return located(observe(requirement_id, operation, problem, outcome.reply), outcome)


def _redacted(secret: str) -> str:
    """How the stub's recording shows a secret: its length and sha256 prefix (pixelpact.generator.runtime.recording)."""
    from pixelpact.generator.runtime.recording import redact_secret

    return redact_secret(secret)


# --- every field, as sent (and the credentials of a request without a client key) -----------------------------------


def check_intact(ctx: RunContext, recording: Recording, operation: OperationContract) -> list[Observation]:
    requirement_id = "request-forwarded-intact"
    ids = (requirement_id, "gateway-credentials-upstream")

    def probe() -> list[Observation]:
        probe_ = new_probe(ctx, operation, "every optional field", **optional_values(ctx, operation))
        outcome = send(ctx, recording, operation, probe_, client_key_=False)
        status = outcome.reply.status
        if not outcome.records and status is not None and 400 <= status < 500:
            why = (
                f"the gateway answered {status} to the request with every optional field: nothing forwarded to compare"
            )
            return [skip(requirement_id, operation, why), _credentials(ctx, operation, outcome)]
        problem, cause, filtered = _unreached(outcome), None, ""
        sent = {name: value for name, value in probe_.body.items() if name not in operation.files}
        azure = any(parameter.location == "path" for parameter in operation.parameters)
        for record in outcome.records[:1]:  # the first attempt (later ones may be the gateway's fallbacks)
            found = compare(sent, record_values(record), multipart=record.get("parts") is not None, azure=azure)
            filtered = filtered_out(ctx, operation, found.dropped)
            if found:
                problem, cause = (
                    f"sent every optional field; on the way to the provider: {found.describe()}",
                    found.cause,
                )
        observation = located(observe(requirement_id, operation, problem, outcome.reply), outcome, cause)
        if problem is None and filtered:
            observation = replace(
                observation, message=f"every field the provider's API takes arrived as sent; {filtered}"
            )
        return [observation, _credentials(ctx, operation, outcome)]

    return _guard(ids, operation, probe)


#: Fields the every-field probe leaves out: files, the stream switch (and partial_images, which needs it), fallbacks
#: (their own check) and the marked prompt and user.
_NOT_FILLED = frozenset({"stream", "partial_images", "fallbacks", "prompt", "user"})


def optional_values(ctx: RunContext, operation: OperationContract) -> dict[str, Any]:
    """A valid, non-default value for every optional field the spec names (size and response_format as
    `_distinctive_values` picks them), except n: it is sent at the fewest images the model takes. forwarded-n
    already judges n with a value that differs from its default (2 images); here n only has to arrive as sent, and a
    second n=2 would double what the probe costs for nothing new."""
    rng = ctx.random("forwarding-intact", operation.operation_id)
    values = _distinctive_values(ctx, operation)
    bounds = operation.integer_range("n")
    if "n" in values and bounds is not None:
        values["n"], _ = ctx.limits.n_range(operation, bounds[0] or 1, bounds[1])
    for name, schema in operation.properties.items():
        if name in values or name in _NOT_FILLED or name in operation.files or not isinstance(schema, Mapping):
            continue
        if not ctx.limits.takes(operation, name):
            continue  # the model refuses it: a valid request keeps to the model's rules
        default = operation.default(name)
        allowed = ctx.limits.allowed(operation, name, operation.enum(name) or ())
        choices = [value for value in allowed if value not in {"auto", default}]
        bounds = operation.integer_range(name)
        if choices:
            values[name] = rng.choice(sorted(choices, key=str))
            cheapest = [quality for quality in CHEAPEST_QUALITIES if quality in choices]
            if name == "quality" and cheapest and ctx.limits.rules(operation) is not None:
                values[name] = cheapest[0]  # a real model bills by quality too: its cheapest non-default one
        elif bounds is not None:
            low, high = bounds
            values[name] = next(
                v
                for v in (42, 2, low if low is not None else 1)
                if (low is None or low <= v) and (high is None or v <= high)
            )
        elif schema.get("type") == "string" and name != "model":
            values[name] = f"pixelpact {name.replace('_', ' ')}"
    return values


# --- files ----------------------------------------------------------------------------------------------------------


def check_variation_files(ctx: RunContext, recording: Recording, operation: OperationContract) -> list[Observation]:
    requirement_id = "variation-first-file-forwarded"

    def probe() -> list[Observation]:
        outcome = send(ctx, recording, operation, new_probe(ctx, operation, "image[] x3", files=3))
        images = outcome.probe.body["image[]"]
        first = file_sha256(images[0])
        problem = _unreached(outcome)
        for record in outcome.records if problem is None else []:
            files = [f for f in record_files(record) if f.get("name") in {"image", "image[]"}]
            hashes = [f.get("sha256") for f in files]
            if hashes != [first]:
                problem = (
                    f"sent image[] x3 (first sha256 {first[:12]}); the upstream received "
                    f"{_describe_files(files, images)}, expected exactly the first file"
                )
                break
        observation = observe(requirement_id, operation, problem, outcome.reply)
        return [
            replace(located(observation, outcome), seen=Seen.CHANGED)
            if problem and outcome.records
            else located(observation, outcome)
        ]

    return _guard((requirement_id,), operation, probe)


def check_edit_files(ctx: RunContext, recording: Recording, operation: OperationContract) -> list[Observation]:
    requirement_id = "edit-files-forwarded"

    def probe() -> list[Observation]:
        mask = mask_png() if "mask" in operation.file_fields else None
        files = ctx.limits.max_images(operation, 3) if "image[]" in operation.file_list_fields else 1
        probe_ = new_probe(ctx, operation, f"{files} images + mask", files=files, mask=mask)
        outcome = send(ctx, recording, operation, probe_)
        images = outcome.probe.body.get("image[]") or [outcome.probe.body["image"]]
        problem = _unreached(outcome)
        for record in outcome.records if problem is None else []:
            received = record_files(record)
            got_images = [f.get("sha256") for f in received if f.get("name") in {"image", "image[]"}]
            got_mask = [f.get("sha256") for f in received if f.get("name") == "mask"]
            if got_images != [file_sha256(image) for image in images]:
                problem = (
                    f"sent {len(images)} image file(s); the upstream received "
                    f"{_describe_files([f for f in received if f.get('name') != 'mask'], images)}"
                )
            elif mask is not None and got_mask != [file_sha256(mask)]:
                problem = "the mask did not reach the upstream unchanged"
            if problem:
                break
        observation = observe(requirement_id, operation, problem, outcome.reply)
        return [
            replace(located(observation, outcome), seen=Seen.CHANGED)
            if problem and outcome.records
            else located(observation, outcome)
        ]

    return _guard((requirement_id,), operation, probe)


def _describe_files(files: Sequence[Mapping[str, Any]], sent: Sequence[bytes]) -> str:
    if not files:
        return "no image file"
    order = {file_sha256(image): index + 1 for index, image in enumerate(sent)}
    names = [
        f"{f.get('name')}=" + (f"file {order[f['sha256']]}" if f.get("sha256") in order else "an unknown file")
        for f in files
    ]
    return ", ".join(names)


# --- invalid input: who rejects it -----------------------------------------------------------------------------------


def check_rejections(ctx: RunContext, recording: Recording, operation: OperationContract) -> list[Observation]:
    requirement_id = "rejection-source-reported"

    def probe() -> list[Observation]:
        # One observation for all the invalid values, so the report's one line per operation names every source.
        judged = []
        for label, fields in _invalid_values(operation):
            outcome = send(ctx, recording, operation, new_probe(ctx, operation, label, **fields))
            judged.append(_judge_rejection(label, outcome))
        if not judged:
            return []
        failed = [(message, outcome) for ok, message, outcome in judged if ok is False]
        if failed:
            message = "; ".join(message for message, _ in failed)
            outcome = failed[0][1]
            observation = observe(requirement_id, operation, message, outcome.reply)
            return [located(observation, outcome, _changed_on_the_way(outcome))]
        rejections = [outcome for ok, _, outcome in judged if ok]
        if not rejections:  # every answer was a 401, 404, 429 or a redirect: no rejection of the values was seen
            return [skip(requirement_id, operation, "; ".join(message for _, message, _ in judged))]
        message = "; ".join(message for _, message, _ in judged)
        return [_passed(requirement_id, operation, message, rejections[0].reply)]

    return _guard((requirement_id,), operation, probe)


def _invalid_values(operation: OperationContract) -> list[tuple[str, dict[str, Any]]]:
    """n just above the spec's maximum and a size outside its enum: invalid only by value."""
    values: list[tuple[str, dict[str, Any]]] = []
    bounds = operation.integer_range("n")
    if bounds is not None and bounds[1] is not None:
        values.append((f"n={bounds[1] + 1}", {"n": bounds[1] + 1}))
    sizes = operation.enum("size")
    if sizes:
        unknown = next(size for size in ("1000x1000", "123x457", "99999x1") if size not in sizes)
        values.append((f"size={unknown}", {"size": unknown}))
    return values


def _has_range_or_enum(operation: OperationContract) -> bool:
    bounds = operation.integer_range("n")
    return bool((bounds is not None and bounds[1] is not None) or operation.enum("size"))


def _changed_on_the_way(outcome: Outcome) -> str | None:
    """ "changed:n" when the invalid value reached the provider as another value (a gateway clamping n), else None."""
    for record in outcome.records[:1]:
        received = record_values(record)
        for name, value in outcome.probe.body.items():
            if name in ("prompt", "user") or name not in received:
                continue
            if not same(name, value, received[name], multipart=record.get("parts") is not None):
                return f"changed:{name}"
    return None


def _judge_rejection(label: str, outcome: Outcome) -> tuple[bool | None, str, Outcome]:
    """(passed, what happened, outcome) for one invalid value: who rejected it, or how it got through; passed is None
    when the answer says nothing about the value (401, 403, 404, 405, 429, a redirect:
    pixelpact.conformance.catalogue.evidence)."""
    status = outcome.reply.status
    upstream = [record.get("status") for record in outcome.records]
    rejected_upstream = [code for code in upstream if isinstance(code, int) and rejected(code)]
    if unattributable(status) is not None:
        return None, f"{label}: got {unattributable(status)}", outcome
    if rejected(status):
        if not outcome.records:
            return True, f"{label}: rejected by the gateway ({status}), nothing forwarded", outcome
        source = f"the provider ({rejected_upstream[-1]})" if rejected_upstream else "the gateway after forwarding"
        return True, f"{label}: forwarded, rejected by {source}, the gateway answering {status}", outcome
    if rejected_upstream:
        problem = (
            f"{label}: the provider rejected it with {rejected_upstream[-1]}, but the gateway answered "
            f"{outcome.client_status} instead of passing the 4xx on"
        )
    elif outcome.records:
        received = record_values(outcome.records[-1])
        name = label.split("=", 1)[0]
        problem = (
            f"{label}: expected a 4xx, got {outcome.client_status}; the provider received {name}="
            f"{received.get(name)!r} and answered {upstream[-1]}"
        )
    else:
        problem = f"{label}: expected a 4xx, got {outcome.client_status}, and nothing reached the provider"
    return False, problem, outcome


def _passed(requirement_id: str, operation: OperationContract, message: str, reply: Reply) -> Observation:
    """A passing observation that still says what happened (here: who rejected the input)."""
    return replace(observe(requirement_id, operation, None, reply), message=message)


# --- fallbacks ----------------------------------------------------------------------------------------------------


def failing_model(ctx: RunContext) -> str:
    """FAILING_MODEL under the provider of the run's model: openai/dall-e-3 -> openai/pixelpact-failing."""
    provider, sep, _ = ctx.model.rpartition("/")
    return f"{provider}{sep}{FAILING_MODEL}"


def check_fallback(ctx: RunContext, recording: Recording, operation: OperationContract) -> list[Observation]:
    requirement_id = "fallback-after-primary-failure"
    if "model" not in operation.required:
        # Azure deployment routes name the model in the path; the body's model and fallbacks are advisory there.
        return [
            skip(
                requirement_id,
                operation,
                "the deployment in the path names the model on this route",
                Unjudged.NOT_APPLICABLE,
            )
        ]

    def probe() -> list[Observation]:
        primary, fallback = failing_model(ctx), ctx.model
        outcome = send(
            ctx,
            recording,
            operation,
            new_probe(ctx, operation, "fallbacks", model=primary, fallbacks=[operation.fallback(fallback)]),
        )
        problem = _fallback_problem(outcome, primary, fallback)
        if problem is None:
            # Say how the gateway got there: retries of the primary are allowed, and worth seeing.
            return [_passed(requirement_id, operation, f"the upstream saw: {_attempts(outcome)}", outcome.reply)]
        tried = {_bare(_record_model(record)) for record in outcome.records}
        status = outcome.reply.status
        # Refused by the gateway itself (a 4xx, nothing sent on): the refusal is the cause, seen in its own answer.
        refused = not outcome.records and status is not None and 400 <= status < 500
        cause = "fallbacks-ignored" if _bare(fallback) not in tried and not refused else None
        return [located(observe(requirement_id, operation, problem, outcome.reply), outcome, cause)]

    return _guard((requirement_id,), operation, probe)


def _fallback_problem(outcome: Outcome, primary: str, fallback: str) -> str | None:
    models = [_bare(_record_model(record)) for record in outcome.records]
    seen = f"the upstream saw: {_attempts(outcome)}"
    status = outcome.reply.status
    if status is None or not 200 <= status < 300:
        sent = f"model {primary!r} failing at the provider, fallbacks [{fallback!r}]"
        return f"{sent}: the gateway answered {outcome.client_status}; {seen}"
    if _bare(primary) not in models:
        forwarded = any("fallbacks" in record_values(record) for record in outcome.records)
        hint = " (it passed `fallbacks` on to the provider instead of trying them)" if forwarded else ""
        return f"the primary model {primary!r} was never tried at the provider{hint}; {seen}"
    if _bare(fallback) not in models:
        return f"answered 200, but the fallback {fallback!r} never reached the provider; {seen}"
    first_fallback = models.index(_bare(fallback))
    if _bare(primary) in models[first_fallback:]:
        return f"the attempts are out of order (primary after the fallback); {seen}"
    return None


def _attempts(outcome: Outcome) -> str:
    """The models the upstream was asked for, in order, with its answers: "a (503) -> b (200)"."""
    attempts = [f"{_bare(_record_model(record))} ({record.get('status')})" for record in outcome.records]
    return " -> ".join(attempts) or "nothing"


def _record_model(record: Mapping[str, Any]) -> str:
    model = record.get("model_requested") or record_values(record).get("model")
    return str(model) if model is not None else ""


def _bare(model: str) -> str:
    """The model without its provider prefix: gateways strip `openai/` before calling the provider."""
    return model.rsplit("/", 1)[-1]


# --- helpers ---------------------------------------------------------------------------------------------------------


def _guard(
    ids: Sequence[str], operation: OperationContract, probe: Callable[[], list[Observation]]
) -> list[Observation]:
    """Budget-guarded; an unreadable recording fails the probe's requirements with the reason."""

    def reading() -> list[Observation]:
        try:
            return probe()
        except UpstreamError as exc:
            return [observe(requirement_id, operation, str(exc), None) for requirement_id in ids]

    return guarded(tuple(ids), operation, reading)


GROUP = ForwardingGroup()
