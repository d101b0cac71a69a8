"""Property-based checks with schemathesis: generated valid and invalid requests, judged by its checks and ours.

schemathesis reads spec/ (never the gateway's own schema), generates requests for the selected operations (its
examples, coverage and fuzzing phases, positive and negative), sends them through the run's Sender and judges each
response with its checks plus pixelpact's image checks (pixelpact.conformance.st.hooks). Every check is a named
requirement; every failure becomes an Observation with the redacted curl line and the response, unless it is one of
schemathesis's known false positives on multipart (pixelpact.conformance.st.filters), which are dropped.

A gateway routes by model and deployment and refuses the ones it does not serve, so every request names the run's
deployment (--deployment) and every valid one the run's model (--model) in `model` and `fallbacks`; invalid ones keep
their mutations (a missing or empty model among them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pixelpact.conformance.catalogue import concerns as spec
from pixelpact.conformance.catalogue.requirements import ACCEPTED, ANY_ANSWER, declare
from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.groups._judge import control_body
from pixelpact.conformance.model import Exchange, Observation, Origin, Requirement, Severity, Unjudged

if TYPE_CHECKING:
    from schemathesis.engine.recorder import ScenarioRecorder

    from pixelpact.conformance.st.transport import SchemathesisTransport
    from pixelpact.conformance.wire.http import BudgetExhausted

GROUP_NAME = "schemathesis"


#: schemathesis check name -> the requirement it judges.
CHECKS: dict[str, Requirement] = {
    "not_a_server_error": declare(
        GROUP_NAME,
        "st-no-server-error",
        Severity.CRITICAL,
        "No generated request, valid or invalid, gets a 5xx or a dropped connection",
        "seed: invalid requests -> 4xx, never 2xx or 5xx",
        origin=Origin.CONVENTION,
        concerns=(spec.REQUEST,),
    ),
    "positive_data_acceptance": declare(
        GROUP_NAME,
        "st-valid-request-accepted",
        Severity.CRITICAL,
        "A generated request that satisfies the spec's request schema is not rejected with a 4xx",
        "paths.*.post.requestBody: the request schema (schemathesis positive generation)",
        origin=Origin.CONVENTION,
        concerns=(spec.REQUEST,),
    ),
    "negative_data_rejection": declare(
        GROUP_NAME,
        "st-invalid-request-rejected",
        Severity.CRITICAL,
        "A generated request that violates the spec's request schema (as it reaches the wire) gets a 4xx",
        "seed: invalid requests -> 4xx, never 2xx or 5xx",
        origin=Origin.CONVENTION,
        concerns=(spec.REQUEST,),
    ),
    "status_code_conformance": declare(
        GROUP_NAME,
        "st-status-code-documented",
        Severity.MINOR,
        "Every status a generated request gets is one the spec documents for the operation",
        "paths.*.post.responses",
        origin=Origin.CONVENTION,
        concerns=(spec.ERRORS, spec.SUCCESS_STATUS),
    ),
    "content_type_conformance": declare(
        GROUP_NAME,
        "st-content-type-documented",
        Severity.MAJOR,
        "Every response's Content-Type is one the spec documents for its status",
        "paths.*.post.responses.*.content",
        origin=Origin.CONVENTION,
        concerns=(spec.STREAMING, spec.RESPONSE_MEDIA_TYPE),
    ),
    "response_schema_conformance": declare(
        GROUP_NAME,
        "st-response-schema",
        Severity.CRITICAL,
        "Every documented response to a generated request validates against its schema",
        "ImageResponse / OpenAIImageResponse / BifrostError / Image{Generation,Edit}StreamEvent",
        origin=Origin.CONVENTION,
        concerns=(spec.STREAMING, spec.RESPONSE, spec.ERRORS),
    ),
    "image_error_envelope": declare(
        GROUP_NAME,
        "st-error-envelope",
        Severity.MAJOR,
        "Every 4xx to a generated request is JSON with an `error` object holding a non-empty string `message`",
        "BifrostError: required [error]; ErrorField: required [message], minLength 1",
        origin=Origin.BIFROST,
        needs=ANY_ANSWER,
        concerns=(spec.ERRORS,),
    ),
    "image_b64_decodes": declare(
        GROUP_NAME,
        "st-b64-json-is-image",
        Severity.CRITICAL,
        "Every b64_json answered to a generated valid request decodes to a PNG, JPEG or WebP image",
        "ImageData.b64_json: The image, base64-encoded",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("response_format")),
    ),
    "image_count_matches_n": declare(
        GROUP_NAME,
        "st-data-count-matches-n",
        Severity.CRITICAL,
        "A 200 to a generated valid request carries n images (n's default when absent)",
        "ImageCount: Number of images to generate",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("n")),
    ),
    "image_dimensions_match_size": declare(
        GROUP_NAME,
        "st-image-dimensions-match-size",
        Severity.MAJOR,
        "Every b64_json image answered to a generated valid request has the requested pixel size",
        "ImageSize: Size of the generated images",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("size")),
    ),
}

PHASES = ["examples", "coverage", "fuzzing"]


class SchemathesisGroup:
    name = GROUP_NAME
    requirements = tuple(CHECKS.values())

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        from schemathesis.engine import events, from_schema

        from pixelpact.conformance.st.transport import SchemathesisTransport, bounded_probes, route

        stream: Any = None
        spent: list[bool] = []

        def budget_spent() -> None:
            spent.append(True)
            if stream is not None:
                stream.stop()

        transport = SchemathesisTransport(
            ctx.sender,
            prefixes=ctx.target.prefixes,
            credentials=ctx.credentials(),
            on_budget_spent=budget_spent,
            # Valid cases name the run's model: a gateway refuses models it does not serve (as the deployment below).
            model=ctx.model,
            # ...and keep to the model's rules (--model): a size or n it does not take is the model's limit
            keep=keep_to_model(ctx),
        )
        schema = route(load_schema(ctx), transport)
        by_label = {f"{operation.method} {operation.path}": operation for operation in ctx.operations}
        judged: set[tuple[str, str]] = set()
        problems: list[str] = []
        rejections = Attribution()
        stream = from_schema(schema).execute()
        try:
            for event in bounded_probes(stream, ctx.sender.max_body):
                if isinstance(event, events.ScenarioFinished):
                    observed = observe_scenario(event.recorder, by_label, transport, ctx.sender.redact)
                    for observation in rejections.attributed(observed):
                        judged.add((observation.requirement_id, observation.operation_id))
                        yield observation
                    yield from observe_dropped(transport, by_label)
                elif isinstance(event, events.NonFatalError) and _is_dropped(event.value):
                    yield from observe_dropped(transport, by_label)  # reported as st-no-server-error, not an error
                elif isinstance(event, events.NonFatalError) and _only_check_failures(event.value):
                    pass  # hypothesis saw a gateway answer one request two ways: the failures are already observed
                elif isinstance(event, events.NonFatalError) and not spent:
                    cause = f"{type(event.value).__name__}: {event.value}"
                    problems.append(f"{event.label}: {event.info.title} ({cause[:300]})")
                elif isinstance(event, events.FatalError):
                    problems.append(f"schemathesis stopped: {event.exception}")
                elif isinstance(event, events.Interrupted) and not spent:
                    # schemathesis turns Ctrl-C into an event and winds down as if it had finished: pass it on
                    raise KeyboardInterrupt
        finally:
            stream.stop()
        # the last refusal says why (budget, time, rate-limited); `stopped` only keeps the first lasting one
        stop = (ctx.sender.last_refusal or ctx.sender.stopped) if spent else None
        cut = Unjudged.BUDGET if stop is None else stop.reason
        for observation in rejections.unattributed(cut if spent else Unjudged.NO_EVIDENCE):
            judged.add((observation.requirement_id, observation.operation_id))
            yield observation
        for operation in ctx.operations:
            for requirement in self.requirements:
                if (requirement.id, operation.operation_id) not in judged:
                    yield unexercised(requirement, operation.operation_id, budget_spent=bool(spent), stopped=stop)
        if problems:
            raise RuntimeError("; ".join(dict.fromkeys(problems)))


def keep_to_model(ctx: RunContext) -> Callable[[str, dict[str, Any]], dict[str, Any]] | None:
    """What brings a generated valid body within the run's model's rules, by operation label; None without --model
    or --deployment (the spec's ranges are kept, as before)."""
    if not ctx.limits.chosen:
        return None
    by_label = {f"{operation.method} {operation.path}": operation for operation in ctx.operations}

    def keep(label: str, body: dict[str, Any]) -> dict[str, Any]:
        operation = by_label.get(label)
        return body if operation is None else ctx.limits.keep_to(operation, body)

    return keep


#: What a requirement needs to be exercised, for the message of a pair that never was.
EVIDENCE = {
    "image_error_envelope": "a 4xx answer to the operation's own method",
    "image_b64_decodes": "a 200 carrying b64_json to a generated valid request",
    "image_count_matches_n": "a JSON 200 with data to a generated valid request",
    "image_dimensions_match_size": "a decodable b64_json image answered to a valid request that names a WxH size",
    "positive_data_acceptance": "a 2xx to a generated valid request (401, 403, 404, 405, 409, 429 and redirects "
    "say nothing about the data)",
    "negative_data_rejection": "a 4xx attributable to the invalid part of a generated request (not 401, 403, 404, "
    "405 or 429), while the operation accepts valid ones",
}


def unexercised(
    requirement: Requirement, operation_id: str, *, budget_spent: bool, stopped: BudgetExhausted | None = None
) -> Observation:
    """A pair no generated request exercised: not judged, for lack of budget (or time: `stopped`) or of evidence."""
    if budget_spent:
        why = f"the request budget (--max-requests) ran out during the {GROUP_NAME} group"
        if stopped is not None and stopped.reason is not Unjudged.BUDGET:
            why = f"{stopped} (during the {GROUP_NAME} group)"
        reason = Unjudged.BUDGET if stopped is None else stopped.reason
        return Observation(requirement.id, operation_id, False, why, skipped=True, reason=reason)
    check = next(name for name, checked in CHECKS.items() if checked is requirement)
    needed = EVIDENCE.get(check, "an answer from the operation itself (not a 401, 403, 404, 405, 429 or redirect)")
    why = f"no generated request exercised it: it needs {needed}"
    return Observation(requirement.id, operation_id, False, why, skipped=True, reason=Unjudged.NO_EVIDENCE)


class Attribution:
    """Holds an operation's passing st-invalid-request-rejected until a generated valid request to the same operation
    was accepted: before that, a 4xx may answer anything (a gateway refusing every request), not the invalid part."""

    def __init__(self) -> None:
        self.accepting: set[str] = set()
        self.held: dict[str, list[Observation]] = {}

    def attributed(self, observations: Iterable[Observation]) -> Iterator[Observation]:
        valid, invalid = CHECKS["positive_data_acceptance"].id, CHECKS["negative_data_rejection"].id
        for observation in observations:
            operation_id = observation.operation_id
            passed = observation.passed and not observation.skipped
            if observation.requirement_id == valid and passed and operation_id not in self.accepting:
                self.accepting.add(operation_id)
                yield observation
                yield from self.held.pop(operation_id, [])
            elif observation.requirement_id == invalid and passed and operation_id not in self.accepting:
                self.held.setdefault(operation_id, []).append(observation)
            else:
                yield observation

    def unattributed(self, reason: Unjudged) -> Iterator[Observation]:
        """The held rejections as not judged: the operation never accepted a generated valid request (before the
        budget ran out, when `reason` is BUDGET)."""
        why = "no generated valid request to this operation was accepted, so its 4xx answers to invalid ones are not "
        why += "attributable to what was made invalid"
        for operation_id in self.held:
            requirement_id = CHECKS["negative_data_rejection"].id
            yield Observation(requirement_id, operation_id, False, why, skipped=True, reason=reason)
        self.held.clear()


def load_schema(ctx: RunContext) -> Any:
    """The spec as schemathesis sees it, configured from the run: seed, examples, operations, fixed parameters."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.generation.modes import GenerationMode

    # Registers the image checks and the real-image `binary` format with schemathesis.
    from pixelpact.conformance.st import evidence as st_evidence
    from pixelpact.conformance.st import hooks as st_hooks
    from pixelpact.generator.loader import read_document

    config = SchemathesisConfig()
    config.update(seed=ctx.seed, max_failures=None)
    # No .schemathesis/ cache directory in the user's working tree; each run stands alone.
    config.cache.enabled = False
    # Recorded responses whole: schemathesis cuts them at 1 MiB by default, and the stream filter then reads a cut
    # `data:` line as the gateway's fault. The Sender's body cap (--max-body-mb) already bounds what is held.
    config.output.truncation.max_recorded_payload_size = 0
    project = config.projects.override
    parameters: dict[str, str] = {}
    if any(parameter.name == "deployment-id" for operation in ctx.operations for parameter in operation.parameters):
        # The gateway routes by deployment (LiteLLM: unknown deployment -> 404): fuzzing it tells nothing.
        parameters["path.deployment-id"] = ctx.deployment
    if ctx.target.api_version:
        parameters["query.api-version"] = ctx.target.api_version
    project.update(
        base_url=ctx.target.base_url,
        # --header: schemathesis's own probes of the server (sent before any case, not through the Sender) carry them
        headers=ctx.sender.custom_headers or None,
        # One worker, not --concurrency: hypothesis describes strategies with ast.parse, which CPython 3.11 does not
        # make thread-safe ("SystemError: AST constructor recursion depth mismatch" under parallel generation).
        # Generation is CPU-bound under the GIL anyway; the other groups fan out.
        workers=1,
        continue_on_failure=True,
        # Its probes (two requests before the first phase) go out through `requests`, not the Sender: bound them by
        # --timeout as well (schemathesis waits 10 s by default, per probe, on a gateway that never answers).
        request_timeout=min(ctx.sender.timeout, 10.0),
        parameters=parameters or None,
    )
    project.phases.update(phases=[phase for phase in PHASES if phase in ctx.profile.schemathesis_phases])
    for phase in (project.phases.examples, project.phases.coverage, project.phases.fuzzing):
        # schemathesis harvests values from earlier 2xx answers into later requests (its "extra data sources"): here
        # the `latency` and `created` of an answer, wall-clock figures, became the next requests' `seed`, so the same
        # seed drew other requests from run to run. This API links no resources (no id one call makes and another
        # takes), so the pool has nothing to find; without it the requests follow from the seed alone.
        phase.extra_data_sources.responses = False
    # Nor literals of code registered with @schemathesis.python.constants in this process (a pytest project's own
    # schemathesis tests): what a seed draws must not depend on what else is loaded.
    project.analysis.constants.enabled = False
    project.checks.update(included_check_names=[*CHECKS])
    # Neither a 401/404/429/redirect nor a 5xx says whether the data was acceptable (pixelpact.conformance.st.evidence).
    project.checks.positive_data_acceptance.expected_statuses = st_evidence.POSITIVE_EXPECTED_STATUSES
    project.checks.negative_data_rejection.expected_statuses = st_evidence.NEGATIVE_EXPECTED_STATUSES
    project.generation.update(
        max_examples=ctx.max_examples,
        database="none",
        # A failing example is reported as found: shrinking it would spend requests (and money) for a smaller one.
        no_shrink=True,
        # Credentials are the run's (--api-key), never generated ones.
        with_security_parameters=False,
    )
    if ctx.profile.schemathesis_negative_fuzzing:
        # quick: the valid side is judged by the cheapest example below; fuzzing spends its few examples on invalid
        # requests, which make no image and are what st-invalid-request-rejected and st-error-envelope need
        project.phases.fuzzing.generation.update(modes=[GenerationMode.NEGATIVE])
    assert set(st_hooks.IMAGE_CHECKS) <= set(CHECKS), "every image check maps to a requirement"
    schema = schemathesis.openapi.from_dict(conditionals_as_any_of(read_document(ctx.contract.path)), config=config)
    included = schema.include(operation_id=[operation.operation_id for operation in ctx.operations])
    if "examples" in ctx.profile.schemathesis_phases:
        included.hooks.register_hook_with_name(cheapest_example_hook(ctx), "before_add_examples")
    return included


def conditionals_as_any_of(document: dict[str, Any]) -> dict[str, Any]:
    """The spec with each "required unless" `if`/`else` of a component schema (the form the generator lifts) said as
    the `anyOf` it means, `allOf: [{anyOf: [else, if]}]`. schemathesis 4.32's coverage phase judges the values it
    draws around an `if` with jsonschema-rs, which cannot take its own file objects ("ValueError: Unsupported type:
    'Binary'") and stops the operation; an `anyOf` it draws from without judging."""
    from pixelpact.generator.schemas import lift_required_rules

    schemas = dict((document.get("components") or {}).get("schemas") or {})
    for name, schema in schemas.items():
        if isinstance(schema, dict) and any(rule.conditions for rule in lift_required_rules(schema)[1]):
            either = {"anyOf": [schema["else"], schema["if"]]}
            rest = {key: value for key, value in schema.items() if key not in ("if", "else")}
            schemas[name] = {**rest, "allOf": [*rest.get("allOf", []), either]}
    return {**document, "components": {**document["components"], "schemas": schemas}}


def cheapest_example_hook(ctx: RunContext) -> Callable[[Any, list[Any]], None]:
    """A `before_add_examples` hook adding, to each operation's examples phase, one valid request asking for the
    cheapest image as b64_json at a WxH size (`RunContext.cheapest_body`): what st-b64-json-is-image and
    st-image-dimensions-match-size need, and which a few random examples rarely draw. schemathesis sends it and judges
    its answer with every check, like any example; a profile without the spec's own examples (quick) sends it alone.
    """
    from schemathesis.generation.hypothesis.examples import generate_one
    from schemathesis.generation.meta import TestPhase
    from schemathesis.specs.openapi._hypothesis import openapi_cases

    by_label = {f"{operation.method} {operation.path}": operation for operation in ctx.operations}

    def before_add_examples(context: Any, examples: list[Any]) -> None:
        operation = by_label.get(context.operation.label)
        if operation is None:
            return
        # the control's own body: when the run sent the control, the Sender answers this example with the control's
        # answer (the model is in it where the spec requires one)
        body = control_body(ctx, operation)
        # the run's deployment and api-version, as every generated request has them (see load_schema's parameters)
        path = {p.name: ctx.deployment for p in operation.parameters if p.location == "path"}
        version = next(
            (ctx.target.api_version or p.example for p in operation.parameters if p.name == "api-version"), None
        )
        strategy = openapi_cases(
            operation=context.operation,
            phase=TestPhase.EXAMPLES,
            body=body,
            media_type=operation.media_type,
            path_parameters=path or None,
            query={"api-version": str(version)} if version is not None else None,
        )
        if not ctx.profile.schemathesis_spec_examples:
            examples.clear()
        examples.append(generate_one(strategy))

    return before_add_examples


def observe_scenario(
    recorder: ScenarioRecorder,
    by_label: dict[str, OperationContract],
    transport: SchemathesisTransport,
    redact: Callable[[str], str],
) -> Iterator[Observation]:
    """One observation per check per generated request; failures carry the exchange and what was expected."""
    from schemathesis.engine import Status

    from pixelpact.conformance.st.evidence import exercised
    from pixelpact.conformance.st.filters import false_positive

    for case_id, nodes in recorder.checks.items():
        case_node = recorder.cases.get(case_id)
        if case_node is None:
            continue
        case = case_node.value
        operation = by_label.get(case.operation.label)
        if operation is None:
            continue
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        exchange = transport.exchanges.pop(case_id, None)
        for node in nodes:
            requirement = CHECKS.get(node.name)
            if requirement is None or node.status is Status.ERROR:
                continue
            if node.status is Status.SUCCESS or node.failure_info is None:
                if response is not None and exercised(node.name, operation, case, response):
                    yield Observation(requirement.id, operation.operation_id, True, exchange=exchange)
                continue
            if response is not None and false_positive(node.name, operation, case, response) is not None:
                continue
            failure = node.failure_info.failure
            message = f"{failure.title}: {failure.message}".strip().rstrip(":")
            yield Observation(
                requirement.id,
                operation.operation_id,
                False,
                f"{_described(case)}{message}"[:1500],
                exchange=exchange
                or Exchange(method=case.method, url="", curl=redact(node.failure_info.code_sample), status=None),
            )


def observe_dropped(transport: SchemathesisTransport, by_label: dict[str, OperationContract]) -> Iterator[Observation]:
    """A failed st-no-server-error per request that got no complete response (dropped connection, timeout)."""
    requirement = CHECKS["not_a_server_error"]
    while transport.dropped:
        label, dropped = transport.dropped.pop(0)
        operation = by_label.get(label)
        if operation is not None:
            message = f"a generated request got no complete response: {dropped.exchange.error}"
            yield Observation(requirement.id, operation.operation_id, False, message, exchange=dropped.exchange)


def _only_check_failures(error: BaseException) -> bool:
    """Whether an error is hypothesis's "flaky" group made only of check failures (no internal error inside)."""
    if not isinstance(error, BaseExceptionGroup) or "Flaky" not in type(error).__name__:
        return False
    return error.subgroup(lambda leaf: not isinstance(leaf, AssertionError | BaseExceptionGroup)) is None


def _is_dropped(error: BaseException | None) -> bool:
    """Whether schemathesis's error is (or was caused by) a dropped connection the transport already recorded."""
    from pixelpact.conformance.st.transport import NoResponse

    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, NoResponse):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _described(case: Any) -> str:
    """What schemathesis generated: "a valid request" / "an invalid request (violates `maximum` at n)"."""
    meta = getattr(case, "meta", None)
    if meta is None:
        return ""
    phase = meta.phase.name.value if hasattr(meta.phase.name, "value") else str(meta.phase.name)
    if meta.generation.mode.is_positive:
        return f"a valid request ({phase}) -> "
    description = getattr(meta.phase.data, "description", None)
    detail = f": {description.splitlines()[0]}" if description else ""
    return f"an invalid request ({phase}{detail}) -> "


GROUP = SchemathesisGroup()
