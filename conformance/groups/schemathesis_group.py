"""Property-based checks with schemathesis: generated valid and invalid requests, judged by its checks and ours.

schemathesis reads spec/ (never the gateway's own schema), generates requests for the selected operations (its
examples, coverage and fuzzing phases, positive and negative), sends them through the run's Sender and judges each
response with its checks plus pixelpact's image checks (conformance.st_hooks). Every check is a named requirement;
every failure becomes an Observation with the redacted curl line and the response, unless it is one of
schemathesis's known false positives on multipart (conformance.st_filters), which are dropped.

A gateway routes by model and deployment and refuses the ones it does not serve, so every request names the run's
deployment (--deployment) and every valid one the run's model (--model) in `model` and `fallbacks`; invalid ones keep
their mutations (a missing or empty model among them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from conformance.context import RunContext
from conformance.contract import OperationContract
from conformance.groups import register
from conformance.model import Exchange, Observation, Requirement, Severity, Unjudged

if TYPE_CHECKING:
    from schemathesis.engine.recorder import ScenarioRecorder

    from conformance.st_transport import SenderTransport

GROUP_NAME = "schemathesis"


def _req(id_: str, severity: Severity, title: str, source: str) -> Requirement:
    return Requirement(id=id_, title=title, source=source, severity=severity, group=GROUP_NAME)


#: schemathesis check name -> the requirement it judges.
CHECKS: dict[str, Requirement] = {
    "not_a_server_error": _req(
        "st-no-server-error",
        Severity.CRITICAL,
        "No generated request, valid or invalid, gets a 5xx or a dropped connection",
        "seed: invalid requests -> 4xx, never 2xx or 5xx",
    ),
    "positive_data_acceptance": _req(
        "st-valid-request-accepted",
        Severity.CRITICAL,
        "A generated request that satisfies the spec's request schema is not rejected with a 4xx",
        "paths.*.post.requestBody: the request schema (schemathesis positive generation)",
    ),
    "negative_data_rejection": _req(
        "st-invalid-request-rejected",
        Severity.CRITICAL,
        "A generated request that violates the spec's request schema (as it reaches the wire) gets a 4xx",
        "seed: invalid requests -> 4xx, never 2xx or 5xx",
    ),
    "status_code_conformance": _req(
        "st-status-code-documented",
        Severity.MINOR,
        "Every status a generated request gets is one the spec documents for the operation",
        "paths.*.post.responses",
    ),
    "content_type_conformance": _req(
        "st-content-type-documented",
        Severity.MAJOR,
        "Every response's Content-Type is one the spec documents for its status",
        "paths.*.post.responses.*.content",
    ),
    "response_schema_conformance": _req(
        "st-response-schema",
        Severity.CRITICAL,
        "Every documented response to a generated request validates against its schema",
        "ImageResponse / OpenAIImageResponse / BifrostError / ImageStreamEvent",
    ),
    "image_error_envelope": _req(
        "st-error-envelope",
        Severity.MAJOR,
        "Every 4xx to a generated request is JSON with an `error` object holding a non-empty string `message`",
        "BifrostError: required [error]; ErrorField: required [message], minLength 1",
    ),
    "image_b64_decodes": _req(
        "st-b64-json-is-image",
        Severity.CRITICAL,
        "Every b64_json answered to a generated valid request decodes to a PNG, JPEG or WebP image",
        "ImageData.b64_json: The image, base64-encoded",
    ),
    "image_count_matches_n": _req(
        "st-data-count-matches-n",
        Severity.CRITICAL,
        "A 200 to a generated valid request carries n images (n's default when absent)",
        "ImageCount: Number of images to generate",
    ),
    "image_dimensions_match_size": _req(
        "st-image-dimensions-match-size",
        Severity.MAJOR,
        "Every b64_json image answered to a generated valid request has the requested pixel size",
        "ImageSize: Size of the generated images",
    ),
}

PHASES = ["examples", "coverage", "fuzzing"]


class SchemathesisGroup:
    name = GROUP_NAME
    requirements = tuple(CHECKS.values())

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        from schemathesis.engine import events, from_schema

        from conformance.st_transport import SenderTransport, route

        stream: Any = None
        spent: list[bool] = []

        def budget_spent() -> None:
            spent.append(True)
            if stream is not None:
                stream.stop()

        transport = SenderTransport(
            ctx.sender,
            prefixes=ctx.target.prefixes,
            credentials=ctx.credentials(),
            on_budget_spent=budget_spent,
            # Valid cases name the run's model: a gateway refuses models it does not serve (as the deployment below).
            model=ctx.model,
        )
        schema = route(load_schema(ctx), transport)
        by_label = {f"{operation.method} {operation.path}": operation for operation in ctx.operations}
        judged: set[tuple[str, str]] = set()
        problems: list[str] = []
        stream = from_schema(schema).execute()
        try:
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    for observation in observe_scenario(event.recorder, by_label, transport, ctx.sender.redact):
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
        finally:
            stream.stop()
        if spent:
            refusal = ctx.sender.last_refusal
            unjudged = refusal.reason if refusal is not None else Unjudged.BUDGET
            reason = f"{refusal or 'the request budget (--max-requests) ran out'} during the {GROUP_NAME} group"
            for operation in ctx.operations:
                for requirement in self.requirements:
                    if (requirement.id, operation.operation_id) not in judged:
                        yield Observation(
                            requirement.id, operation.operation_id, False, reason, skipped=True, reason=unjudged
                        )
        if problems:
            raise RuntimeError("; ".join(dict.fromkeys(problems)))


def load_schema(ctx: RunContext) -> Any:
    """The spec as schemathesis sees it, configured from the run: seed, examples, operations, fixed parameters."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    # Registers the image checks and the real-image `binary` format with schemathesis.
    from conformance import st_hooks
    from generator.loader import read_document

    config = SchemathesisConfig()
    config.update(seed=ctx.seed, max_failures=None)
    # No .schemathesis/ cache directory in the user's working tree; each run stands alone.
    config.cache.enabled = False
    project = config.projects.override
    parameters: dict[str, str] = {}
    if any(parameter.name == "deployment-id" for operation in ctx.operations for parameter in operation.parameters):
        # The gateway routes by deployment (LiteLLM: unknown deployment -> 404): fuzzing it tells nothing.
        parameters["path.deployment-id"] = ctx.deployment
    if ctx.target.api_version:
        parameters["query.api-version"] = ctx.target.api_version
    project.update(
        base_url=ctx.target.base_url,
        # One worker, not --concurrency: hypothesis describes strategies with ast.parse, which CPython 3.11 does not
        # make thread-safe ("SystemError: AST constructor recursion depth mismatch" under parallel generation).
        # Generation is CPU-bound under the GIL anyway; the other groups fan out.
        workers=1,
        continue_on_failure=True,
        parameters=parameters or None,
    )
    project.phases.update(phases=[phase for phase in PHASES if phase in ctx.profile.schemathesis_phases])
    project.checks.update(included_check_names=[*CHECKS])
    project.generation.update(
        max_examples=ctx.max_examples,
        database="none",
        # A failing example is reported as found: shrinking it would spend requests (and money) for a smaller one.
        no_shrink=True,
        # Credentials are the run's (--api-key), never generated ones.
        with_security_parameters=False,
    )
    assert set(st_hooks.IMAGE_CHECKS) <= set(CHECKS), "every image check maps to a requirement"
    schema = schemathesis.openapi.from_dict(read_document(ctx.contract.path), config=config)
    return schema.include(operation_id=[operation.operation_id for operation in ctx.operations])


def observe_scenario(
    recorder: ScenarioRecorder,
    by_label: dict[str, OperationContract],
    transport: SenderTransport,
    redact: Callable[[str], str],
) -> Iterator[Observation]:
    """One observation per check per generated request; failures carry the exchange and what was expected."""
    from schemathesis.engine import Status

    from conformance.st_filters import false_positive

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


def observe_dropped(transport: SenderTransport, by_label: dict[str, OperationContract]) -> Iterator[Observation]:
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
    from conformance.st_transport import NoResponse

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


GROUP = register(SchemathesisGroup())
