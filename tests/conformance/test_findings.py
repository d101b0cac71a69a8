"""Findings: one per root cause. A gateway with one bug gets one finding naming it, the pairs that bug keeps from
being judged are blocked by it (not failed), and nothing else fails."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.catalogue.findings import Cause, cause_of, diagnose, operations_phrase
from pixelpact.conformance.catalogue.preconditions import Preconditions
from pixelpact.conformance.catalogue.requirements import CATALOGUE, by_id
from pixelpact.conformance.model import Exchange, Finding, Observation, Report, RequirementResult, Seen, Status
from pixelpact.conformance.suite import ALL_GROUPS
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.real_failures import not_serving

OPERATIONS = ("createImage", "createImageEdit", "createImageVariation")
JSON = [(b"content-type", b"application/json")]


def _multipart(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"].endswith(("/edits", "/variations"))


def fails_after_success(app: ASGIApp) -> ASGIApp:
    """Edits and variations: the request is served (the image is made), then the answer is replaced by a 500."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if not _multipart(scope):
            await app(scope, receive, send)
            return
        status: list[int] = []

        async def replace(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if status[0] < 300:
                    await send({"type": "http.response.start", "status": 500, "headers": JSON})
                    return
            elif status[0] < 300:
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b'{"error": {"message": "internal error"}}'})
                return
            await send(message)

        await app(scope, receive, replace)

    return gateway


def run(app: ASGIApp) -> Report:
    with stub_server(app=app) as url:
        return check(CheckOptions(base_url=url, operations=OPERATIONS, seed=11, max_examples=2, timeout=15.0))


def unexplained(report: Report) -> list[tuple[str, str]]:
    """Failed or blocked pairs no finding explains (must be none)."""
    explained = {pair for finding in report.findings for pair in finding.pairs}
    return [
        (r.requirement.id, r.operation_id)
        for r in report.results
        if r.status in (Status.FAILED, Status.BLOCKED) and (r.requirement.id, r.operation_id) not in explained
    ]


def test_a_500_after_every_accepted_multipart_request_is_one_finding() -> None:
    report = run(fails_after_success(default_app(StubConfig())))

    assert [finding.id for finding in report.findings] == ["F-server-error-500"]
    [finding] = report.findings
    assert finding.title == "edits and variations: requests end in a 500 server error"
    assert not unexplained(report)
    assert {operation for _, operation in finding.pairs} == {"createImageEdit", "createImageVariation"}
    # generations are unaffected: nothing there failed or is blocked
    assert all(
        r.status is not Status.FAILED and r.status is not Status.BLOCKED
        for r in report.results
        if r.operation_id == "createImage"
    )
    # what only a served valid request could show is blocked by it, not failed
    for requirement_id in ("image-array-accepted", "unknown-field-tolerated", "still-answering", "stream-event-types"):
        result = report.result(requirement_id, "createImageEdit")
        assert result is not None and result.status is Status.BLOCKED, requirement_id
        assert result.blocked_by == "F-server-error-500"
    edit = report.result("valid-request-accepted", "createImageEdit")
    assert edit is not None and edit.status is Status.FAILED
    assert finding.blocked == report.coverage().blocked > 0
    assert "/v1/images/" in finding.reproduction and finding.reproduction.startswith("curl ")


def test_a_route_not_served_blocks_its_pairs_and_fails_none() -> None:
    report = run(not_serving("variations", default_app(StubConfig())))

    assert [finding.id for finding in report.findings] == ["F-route-not-served"]
    [finding] = report.findings
    assert finding.title == "variations: the route is not served (every answer is a 404 or 405)"
    assert not report.failed and not unexplained(report)
    # a 404 is a 4xx, but it says nothing about how the route treats invalid input: not a pass
    rejected = report.result("n-out-of-range-rejected", "createImageVariation")
    assert rejected is not None and rejected.status is Status.BLOCKED
    # nothing passes there, but the shape of its error answers (judged on any error answer, a 404's included)
    passed = {
        r.requirement.id
        for r in report.results
        if r.operation_id == "createImageVariation" and r.status is Status.PASSED
    }
    assert passed <= {"error-body-shape", "st-error-envelope"}
    assert report.verdict == "fail"


def test_finding_ids_are_short_and_derived_from_the_cause_alone() -> None:
    assert Cause("server-error", "500").id == "F-server-error-500"
    assert Cause("rejected", "400-invalid_request_error").id == "F-rejected-400-invalid-request-error"
    assert Cause("dropped", "fields", names=("seed",)).id == "F-dropped-fields"
    assert operations_phrase(["createImageEdit", "azureCreateImageEdit", "openaiCreateImageEdit"]) == "edits"
    assert operations_phrase(["azureCreateImage", "azureCreateImageVariation"]) == (
        "generations and variations (azure routes)"
    )


def errs_on_undeclared_methods(app: ASGIApp) -> ASGIApp:
    """A 500 where a 405 belongs: any method but POST on an image route (LiteLLM's Azure routes fall through to a
    pass-through route that fails this way)."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/images/" in scope["path"] and scope["method"] != "POST":
            await send({"type": "http.response.start", "status": 500, "headers": JSON})
            await send({"type": "http.response.body", "body": b'{"error": {"message": "Internal server error"}}'})
            return
        await app(scope, receive, send)

    return gateway


def test_a_server_error_to_an_undeclared_method_is_its_own_finding() -> None:
    with stub_server(app=errs_on_undeclared_methods(default_app(StubConfig()))) as url:
        report = check(
            CheckOptions(base_url=url, operations=("createImage",), groups=("schemathesis",), seed=11, timeout=15.0)
        )

    assert [finding.id for finding in report.findings] == ["F-undeclared-method"], report.findings
    [finding] = report.findings
    assert finding.pairs == (("st-no-server-error", "createImage"),)
    assert "a method the spec does not declare here, end in a server error" in finding.title
    assert any(method in finding.title for method in ("PUT", "PATCH", "DELETE", "GET"))
    assert finding.reproduction.startswith("curl ") and "-X POST" not in finding.reproduction
    assert unexplained(report) == []


def _failed_with_500(message: str) -> RequirementResult:
    body = json.dumps({"error": {"message": message, "type": "internal_server_error"}})
    exchange = Exchange("POST", "http://127.0.0.1/v1/images/generations", "curl ...", 500, body_excerpt=body)
    observation = Observation("huge-number-rejected", "createImage", False, "expected a 4xx, got 500", exchange)
    return RequirementResult(
        by_id(CATALOGUE)["huge-number-rejected"], "createImage", Status.FAILED, failures=[observation]
    )


def test_a_server_error_keeps_its_id_when_the_message_varies_only_in_ids_numbers_and_quoted_values() -> None:
    """The id takes the error's words, not what changes from request to request (ids, counts, quoted values)."""
    first = _failed_with_500("number is infinity when parsed as double: line 1 column 78 (request req_8f3a1)")
    again = _failed_with_500("Number is infinity when parsed as double: line 2 column 9 (request req_0b77c)")
    other = _failed_with_500("Input is a zero-length, empty document: line 1 column 1 'model-x'")

    assert cause_of(first).id == cause_of(again).id == "F-server-error-500-number-infinity-when"
    assert cause_of(other).id != cause_of(first).id
    assert cause_of(_failed_with_500("Internal Server Error")).id == "F-server-error-500"


def test_null_in_several_answer_fields_is_one_cause() -> None:
    """A serializer that writes every unset key as null fails b64_json in url answers and url in b64 answers: one
    finding naming both fields, not one per field."""
    requirements = by_id(CATALOGUE)
    results = []
    for field in ("b64_json", "url"):
        exchange = Exchange("POST", "http://127.0.0.1/v1/images/generations", "curl ...", 200)
        message = f"valid request: at body['data'][0]['{field}']: None is not of type 'string'"
        observation = Observation("response-schema", "createImage", False, message, exchange)
        results.append(
            RequirementResult(requirements["response-schema"], "createImage", Status.FAILED, failures=[observation])
        )

    assert {cause_of(result).id for result in results} == {"F-content-null"}
    assert cause_of(results[1]).names == ("url",)


# --- issue 21: clusters by evidence, true of every pair -----------------------------------------------------------


def _failed(
    requirement_id: str,
    operation: str,
    status: int,
    error: str,
    message: str,
    *,
    seen: Seen | None = None,
    cause: str | None = None,
) -> RequirementResult:
    body = json.dumps({"error": {"message": error, "type": "api_error"}})
    exchange = Exchange("POST", f"http://127.0.0.1/{operation}", "curl ...", status, body_excerpt=body)
    observation = Observation(requirement_id, operation, False, message, exchange, seen=seen, cause=cause)
    requirement = next(r for group in ALL_GROUPS for r in group.requirements if r.id == requirement_id)
    return RequirementResult(requirement, operation, Status.FAILED, failures=[observation])


def _diagnosed(results: list[RequirementResult]) -> list[Finding]:
    preconditions = Preconditions()
    for result in results:
        for observation in result.failures:
            preconditions.see(observation)
    return diagnose(results, preconditions)


def test_messages_split_a_server_error_only_when_each_belongs_to_other_requests() -> None:
    """Rule 4 both ways. Two messages for two kinds of request (LiteLLM's huge n and empty body) are two causes;
    messages that differ from route to route for the same kind of request (Bifrost's "Invalid JSON" on one route and
    "failed to parse request" on another for n='abc') are one cause in other words: one finding naming the routes."""
    never = Seen.UNREACHED
    apart = [
        _failed(
            "huge-number-rejected",
            op,
            500,
            "number is infinity when parsed as double: line 1 column 97",
            "sent n with 1000 digits: expected a 4xx, got 500",
            seen=never,
        )
        for op in ("openaiCreateImage", "azureCreateImage")
    ] + [
        _failed(
            "empty-body-rejected",
            op,
            500,
            "Input is a zero-length, empty document: line 1 column 1",
            "sent an empty body: expected a 4xx, got 500",
            seen=never,
        )
        for op in ("openaiCreateImage", "azureCreateImage")
    ]
    assert [f.id for f in _diagnosed(apart)] == [
        "F-server-error-500-number-infinity-when",
        "F-server-error-500-input-zero-length",
    ]

    one = [
        _failed(
            "n-not-integer-rejected",
            "openaiCreateImage",
            500,
            "Invalid JSON",
            "sent n='abc': expected a 4xx, got 500",
            seen=never,
        ),
        _failed(
            "n-not-integer-rejected",
            "azureCreateImage",
            500,
            "failed to parse request",
            "sent n='abc': expected a 4xx, got 500",
            seen=never,
        ),
        _failed(
            "missing-required-rejected",
            "openaiCreateImage",
            500,
            "model is required",
            "sent without model: expected a 4xx, got 500",
            seen=never,
        ),
        _failed(
            "missing-required-rejected",
            "openaiCreateImageEdit",
            500,
            "failed to parse request",
            "sent without model: expected a 4xx, got 500",
        ),
        _failed(
            "empty-body-rejected",
            "azureCreateImage",
            500,
            "prompt not provided for image generation request",
            "sent an empty body: expected a 4xx, got 500",
            seen=never,
        ),
        _failed(
            "missing-required-rejected",
            "azureCreateImage",
            500,
            "prompt not provided for image generation request",
            "sent without prompt: expected a 4xx, got 500",
            seen=never,
        ),
    ]
    [finding] = _diagnosed(one)
    assert finding.id == "F-server-error-500-invalid-input"
    assert finding.title == (
        "generations and edits (azure and openai routes): invalid input ends in a 500 server error; the gateway never"
        " forwarded them"
    )
    assert finding.where == "gateway"


def test_valid_requests_answered_5xx_in_other_words_stay_apart_invalid_input_joins() -> None:
    """Messages join only for invalid input. A valid edit refused for a form field on one route and a valid edit whose
    conversion fails on another are two causes, though both fail valid-request-accepted unforwarded; client errors
    answered 500 in other words on two routes are the gateway's one error path."""
    never = Seen.UNREACHED
    valid = [
        _failed(
            "valid-request-accepted",
            "azureCreateImageEdit",
            500,
            "failed to parse request",
            "valid request: expected 200, got 500",
            seen=never,
        ),
        _failed(
            "valid-request-accepted",
            "createImageEdit",
            500,
            "failed to convert request to target format",
            "valid request (type=background_removal without prompt): expected 200, got 500",
            seen=never,
        ),
    ]
    invalid = [
        _failed(
            "n-not-integer-rejected",
            op,
            500,
            error,
            "sent n='abc': expected a 4xx, got 500",
            seen=never,
        )
        for op, error in (("openaiCreateImage", "Invalid JSON"), ("azureCreateImage", "failed to parse request"))
    ]
    findings = _diagnosed([*valid, *invalid])
    assert [(f.id, f.pairs) for f in findings] == [
        ("F-server-error-500-failed-parse-request", (("valid-request-accepted", "azureCreateImageEdit"),)),
        ("F-server-error-500-failed-convert-request", (("valid-request-accepted", "createImageEdit"),)),
        (
            "F-server-error-500-invalid-input",
            (("n-not-integer-rejected", "openaiCreateImage"), ("n-not-integer-rejected", "azureCreateImage")),
        ),
    ]
    assert findings[0].title == (
        'edits (azure routes): requests end in a 500 server error ("failed to parse request"); the gateway never'
        " forwarded them"
    )


def test_what_the_provider_saw_keeps_causes_apart_and_titles_say_only_what_all_share() -> None:
    """One status and message, but the provider answered one valid request with a 2xx and never saw the other: two
    causes, each titled with its own evidence (and invalid input a third); a pair whose group did not read the
    recording joins the one of its kind."""
    results = [
        _failed(
            "valid-request-accepted",
            "createImageEdit",
            500,
            "Internal Server Error",
            "valid request: expected 200, got 500",
            seen=Seen.ANSWERED,
        ),
        _failed(
            "still-answering",
            "createImageEdit",
            500,
            "Internal Server Error",
            "a valid request after the hostile ones: expected 200, got 500",
        ),
        _failed(
            "valid-request-accepted",
            "createImage",
            500,
            "Internal Server Error",
            "valid request: expected 200, got 500",
            seen=Seen.UNREACHED,
        ),
        _failed(
            "bad-json-rejected",
            "createImage",
            500,
            "Internal Server Error",
            "sent truncated JSON: expected a 4xx, got 500",
            seen=Seen.UNREACHED,
        ),
    ]
    findings = _diagnosed(results)
    assert [(f.id, f.title, f.where) for f in findings] == [
        (
            "F-server-error-500",
            "edits: requests end in a 500 server error although the provider answered 2xx",
            "gateway",
        ),
        (
            "F-server-error-500-never-reached",
            "generations: requests end in a 500 server error; the gateway never forwarded them",
            "gateway",
        ),
        (
            "F-server-error-500-invalid-input",
            "generations: invalid input ends in a 500 server error; the gateway never forwarded them",
            "gateway",
        ),
    ]
    assert findings[0].pairs == (("valid-request-accepted", "createImageEdit"), ("still-answering", "createImageEdit"))


def test_a_finding_has_where_whenever_the_provider_recorded_its_request() -> None:
    """A requirement-kind finding (no cause named) still says where, from what the provider saw."""
    message = "sent image[] x3; the upstream received image[]=file 1, image[]=file 2, expected exactly the first file"
    result = _failed("variation-first-file-forwarded", "createImageVariation", 200, "", message, seen=Seen.CHANGED)
    [finding] = _diagnosed([result])
    assert finding.where == "on-the-way"


def test_the_symptoms_of_a_change_on_the_way_fold_into_its_finding() -> None:
    """One fault, one finding: wrong dimensions after a rewritten size, and an invalid value a dropped field let
    through, belong to the change that caused them."""
    changed = Seen.CHANGED
    results = [
        _failed(
            "forwarded-size",
            "createImage",
            200,
            "",
            "size: the client sent '1024x1024', the upstream received '256x256'",
            seen=changed,
        ),
        _failed(
            "image-dimensions-match-size",
            "createImage",
            200,
            "",
            "valid request: data[0] is 256x256, requested size 512x512",
        ),
        _failed(
            "forwarded-user",
            "createImage",
            200,
            "",
            "user did not reach the upstream (the client sent 'u'; the gateway dropped it)",
            seen=changed,
        ),
        _failed(
            "prop-invalid-rejected",
            "createImage",
            200,
            "",
            "user=3: expected a 4xx, got 200 (coverage: user -> wrong type)",
        ),
    ]
    findings = _diagnosed(results)
    assert {f.id: sorted(r for r, _ in f.pairs) for f in findings} == {
        "F-changed-size": ["forwarded-size", "image-dimensions-match-size"],
        "F-dropped-fields": ["forwarded-user", "prop-invalid-rejected"],
    }
    assert {f.where for f in findings} == {"on-the-way"}


def test_invalid_input_accepted_names_the_parameter_a_generated_request_got_wrong() -> None:
    """A title "invalid input in fallbacks" must not explain a pair whose invalid part was the api-version query."""
    accepted = "Schema-violating request accepted: Invalid data should have been rejected"
    in_body = f"an invalid request (coverage: fallbacks -> Array with invalid items) -> {accepted}"
    in_query = (
        f"an invalid request (fuzzing: violates `minLength` at /properties/api-version) -> {accepted}\n"
        "Invalid component: parameter `api-version` in query - violates `minLength` at /properties/api-version"
    )
    results = [
        _failed("st-invalid-request-rejected", "openaiCreateImage", 200, "", in_body),
        _failed("st-invalid-request-rejected", "azureCreateImageEdit", 200, "", in_query),
    ]
    (finding,) = _diagnosed(results)
    assert finding.id == "F-accepted-invalid"
    assert "invalid input in fallbacks, api-version is answered with a 2xx" in finding.title, finding.title
