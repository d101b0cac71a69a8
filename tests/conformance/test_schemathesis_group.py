"""The schemathesis group against the stub (passes), against small broken variants (caught, with evidence), within
the request budget, through a --prefix mapping, and without leaking the key."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.conformance.engine.images import png
from pixelpact.conformance.model import Report, Status, Unjudged
from pixelpact.conformance.st.group import CHECKS
from pixelpact.conformance.st.transport import MAX_NO_RESPONSE
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.toolkit import read_body, replaying
from tests.conformance.conftest import API_KEY, failing, run

ST_IDS = {requirement.id for requirement in CHECKS.values()}
JSON_OP, MULTIPART_OP = "createImage", "createImageVariation"

Rewrite = Callable[[Scope, bytes], Awaitable[tuple[int, bytes, str] | None]]


def broken(rewrite: Rewrite, config: StubConfig | None = None) -> ASGIApp:
    """The stub, except where `rewrite(scope, body)` returns its own (status, body, content type) answer."""
    app = default_app(config or StubConfig())

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        answer = await rewrite(scope, body)
        if answer is not None:
            status, content, content_type = answer
            await send(
                {"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]}
            )
            await send({"type": "http.response.body", "body": content})
            return
        replay = replaying(body)

        await app(scope, replay, send)

    return gateway


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    with stub_server(app=app) as url:
        yield url


def st_run(url: str, operations: tuple[str, ...], **options: Any) -> Report:
    return run(url, groups=("schemathesis",), operations=operations, **options)


def statuses(report: Report, requirement_id: str) -> dict[str, Status]:
    return report.statuses(requirement_id)


@pytest.mark.parametrize(
    ("seed", "operations"),
    [(1, (JSON_OP, MULTIPART_OP)), (20261121, ("createImageEdit", "azureCreateImage", "openaiCreateImageVariation"))],
)
def test_stub_passes_every_schemathesis_requirement(stub_url: str, seed: int, operations: tuple[str, ...]) -> None:
    report = st_run(stub_url, operations, seed=seed)

    assert report.errors == []
    assert failing(report) == set(), [(r.requirement.id, r.operation_id, r.message[:400]) for r in report.failed]
    judged = {r.requirement.id for r in report.results if r.status is Status.PASSED}
    # Every check judged something: a pass needs evidence (pixelpact.conformance.st.evidence), so b64/dimensions passed
    # on a b64_json answer, st-invalid-request-rejected on an attributable 4xx, st-error-envelope on an error answer.
    assert judged == ST_IDS
    samples = {r.requirement.id: r.sample for r in report.results if r.status is Status.PASSED}
    assert samples["st-b64-json-is-image"] is not None and samples["st-b64-json-is-image"].status == 200
    assert samples["st-error-envelope"] is not None and 400 <= (samples["st-error-envelope"].status or 0) < 500
    assert report.requests_sent > 75 * len(operations)  # examples, coverage and fuzzing, not a token run


def test_generated_edits_keep_to_prompt_unless_background_removal() -> None:
    """The spec's if/else reaches schemathesis as the anyOf it means (group.conditionals_as_any_of): every phase
    runs on edits (the `if` stopped the coverage phase), and the valid edits it draws take both sides of the rule."""
    with serving(default_app(StubConfig())) as url:
        report = st_run(url, ("createImageEdit",), seed=7, max_examples=30)
        recorded = httpx.get(f"{url}/_pixelpact/requests").json()["requests"]

    assert report.errors == []
    assert failing(report) == set(), [(r.requirement.id, r.message[:300]) for r in report.failed]
    # no request drawn was refused for its prompt: a valid draw that broke the rule would be (the stub enforces it)
    assert not [entry["error"] for entry in recorded if "prompt is required" in str(entry["error"])]
    accepted = [{p["name"]: p.get("value") for p in entry["parts"]} for entry in recorded if entry["status"] == 200]
    assert any("prompt" in parts for parts in accepted)
    waived = [parts for parts in accepted if "prompt" not in parts]
    assert waived and all(parts.get("type") == "background_removal" for parts in waived)


def test_a_500_on_invalid_input_is_caught_with_evidence() -> None:
    async def crash_on_big_n(scope: Scope, body: bytes) -> tuple[int, bytes, str] | None:
        if scope["path"].endswith("/generations"):
            try:
                n = json.loads(body).get("n")
            except (ValueError, AttributeError):
                return None
            if isinstance(n, int) and n > 10:
                return 500, b'{"error": {"message": "upstream exploded"}}', "application/json"
        return None

    with serving(broken(crash_on_big_n)) as url:
        report = st_run(url, (JSON_OP, MULTIPART_OP))

    assert statuses(report, "st-no-server-error") == {JSON_OP: Status.FAILED, MULTIPART_OP: Status.PASSED}
    result = report.result("st-no-server-error", JSON_OP)
    assert result is not None and result.failures
    evidence = result.failures[0]
    assert evidence.exchange is not None and evidence.exchange.status == 500
    assert evidence.exchange.curl.startswith("curl ") and "/v1/images/generations" in evidence.exchange.curl
    assert "invalid request" in evidence.message  # it says what was generated


def test_accepting_n_above_its_maximum_is_caught() -> None:
    async def clamp_n(scope: Scope, body: bytes) -> tuple[int, bytes, str] | None:
        try:
            document = json.loads(body)
        except ValueError:
            return None
        n = document.get("n") if isinstance(document, dict) else None
        if isinstance(n, int) and not isinstance(n, bool) and n > 10:
            data = [{"url": "http://127.0.0.1/x.png"}] * n
            return 200, json.dumps({"created": 1, "data": data}).encode(), "application/json"
        return None

    with serving(broken(clamp_n)) as url:
        report = st_run(url, (JSON_OP,))

    assert ("st-invalid-request-rejected", JSON_OP) in failing(report)


def test_errors_as_plain_text_are_caught() -> None:
    async def plain_errors(scope: Scope, body: bytes) -> tuple[int, bytes, str] | None:
        try:
            document = json.loads(body)
        except ValueError:
            return 400, b"bad request", "text/plain"
        if not isinstance(document, dict) or "prompt" not in document:
            return 400, b"bad request", "text/plain"
        return None

    with serving(broken(plain_errors)) as url:
        report = st_run(url, (JSON_OP,))

    assert ("st-error-envelope", JSON_OP) in failing(report)


def test_one_image_too_few_is_caught() -> None:
    app = default_app(StubConfig())

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        async def trimmed(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body", b"").startswith(b'{"id"'):
                document = json.loads(message["body"])
                if len(document.get("data", [])) > 1:
                    document["data"] = document["data"][:-1]
                    message = {**message, "body": json.dumps(document).encode()}
            elif message["type"] == "http.response.start":
                message = {**message, "headers": [h for h in message["headers"] if h[0].lower() != b"content-length"]}
            await send(message)

        await app(scope, receive, trimmed)

    with serving(gateway) as url:
        report = st_run(url, (JSON_OP,))

    assert ("st-data-count-matches-n", JSON_OP) in failing(report)


QUICK_OPS = (JSON_OP, MULTIPART_OP, "azureCreateImageEdit")
ON_THE_CHEAPEST_EXAMPLE = ("st-b64-json-is-image", "st-image-dimensions-match-size")


def test_quick_judges_the_image_checks_on_its_cheapest_example_and_invalid_ones_on_fuzzing(stub_url: str) -> None:
    report = st_run(stub_url, QUICK_OPS, profile="quick")

    assert report.errors == [] and failing(report) == set()
    assert {(r.requirement.id, r.operation_id) for r in report.results if r.status is Status.PASSED} == {
        (requirement_id, operation_id) for requirement_id in ST_IDS for operation_id in QUICK_OPS
    }
    for result in report.results:
        if result.requirement.id in ON_THE_CHEAPEST_EXAMPLE:
            # passed on the exchange that exercised it: the smallest size, asked as b64_json, answered 200
            assert result.sample is not None and result.sample.status == 200
            assert "256x256" in result.sample.curl and "b64_json" in result.sample.curl


def test_quick_fails_an_image_of_the_wrong_size_on_its_cheapest_example() -> None:
    async def tiny_images(scope: Scope, body: bytes) -> tuple[int, bytes, str] | None:
        if b"b64_json" not in body:
            return None
        document = {"created": 1, "data": [{"b64_json": base64.b64encode(png(1, 1)).decode()}]}
        return 200, json.dumps(document).encode(), "application/json"

    with serving(broken(tiny_images)) as url:
        report = st_run(url, (JSON_OP,), profile="quick")

    assert ("st-image-dimensions-match-size", JSON_OP) in failing(report)
    assert report.statuses("st-b64-json-is-image")[JSON_OP] is Status.PASSED


def test_the_budget_stops_the_group_and_skips_what_it_could_not_judge(stub_url: str) -> None:
    # breadth first: quick's pass (the cheapest example and 2 fuzzed requests per operation) judges every pair with 6
    # requests, so the budget has to cut into that pass to leave pairs unjudged
    report = st_run(stub_url, (JSON_OP, MULTIPART_OP), max_requests=4)

    assert report.requests_sent == 4
    assert report.errors == []
    assert report.verdict == "incomplete"  # cut short: never a bare pass
    skipped = [r for r in report.results if r.status is Status.NOT_JUDGED]
    assert skipped and all("--max-requests" in r.message for r in skipped)
    assert all(r.reason is Unjudged.BUDGET for r in skipped)


def test_prefix_maps_the_routes_onto_the_gateway() -> None:
    """A gateway serving the Azure routes at /openai/deployments (LiteLLM's layout), and 404 at the spec's."""
    app = default_app(StubConfig())

    async def moved(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if path.startswith("/openai/openai/deployments/"):
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"not here"})
            return
        if path.startswith("/openai/deployments/"):
            scope = {**scope, "path": "/openai" + path, "raw_path": ("/openai" + path).encode()}
        await app(scope, receive, send)

    with serving(moved) as url:
        report = st_run(
            url, ("azureCreateImageVariation",), prefixes=(("/openai/openai/deployments", "/openai/deployments"),)
        )

    assert report.errors == []
    assert failing(report) == set(), [(r.requirement.id, r.message[:300]) for r in report.failed]
    assert report.statuses("st-valid-request-accepted") == {"azureCreateImageVariation": Status.PASSED}


def test_the_key_is_sent_and_never_shown(keyed_stub_url: str) -> None:
    report = st_run(keyed_stub_url, (MULTIPART_OP,), api_key=API_KEY, auth="x-bf-vk")

    # With the key, valid requests are served (no 401 for every one of them) ...
    assert report.statuses("st-data-count-matches-n") == {MULTIPART_OP: Status.PASSED}
    # (without it, every answer is a 401: no image came back, and no request was accepted or rejected for its data)
    keyless = st_run(keyed_stub_url, (MULTIPART_OP,))
    for requirement_id in ("st-data-count-matches-n", "st-valid-request-accepted", "st-invalid-request-rejected"):
        assert keyless.statuses(requirement_id) == {MULTIPART_OP: Status.NOT_JUDGED}, requirement_id
    # ... and no evidence carries it.
    evidence = [r.sample for r in report.results] + [f.exchange for r in report.results for f in r.failures]
    text = repr(evidence)
    assert API_KEY not in text
    assert "x-bf-vk: ***" in text


def not_an_object(body: bytes) -> bool:
    try:
        return not isinstance(json.loads(body), dict)
    except ValueError:
        return False


def misbehaving_on_non_objects(hang: bool) -> ASGIApp:
    """LiteLLM's shape of bug: a JSON body that is not an object crashes the handler mid-answer, so the connection
    is dropped (or, with `hang`, the answer never comes)."""
    app = default_app(StubConfig())

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = await read_body(receive)
        if not_an_object(body):
            if hang:
                await asyncio.sleep(3)
                return
            headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise RuntimeError("handler crashed")  # uvicorn closes the half-answered connection

        await app(scope, replaying(body), send)

    return gateway


def test_a_dropped_connection_is_a_failure_not_a_run_error() -> None:
    with serving(misbehaving_on_non_objects(hang=False)) as url:
        report = st_run(url, (JSON_OP,), timeout=2.0)

    assert report.errors == []
    result = report.result("st-no-server-error", JSON_OP)
    assert result is not None and result.status is Status.FAILED
    assert "no complete response" in result.message and "peer closed connection" in result.message
    assert result.failures[0].exchange is not None and result.failures[0].exchange.curl.startswith("curl ")
    # The operation is still judged on everything else it was sent.
    assert statuses(report, "st-valid-request-accepted") == {JSON_OP: Status.PASSED}
    assert statuses(report, "st-invalid-request-rejected") == {JSON_OP: Status.PASSED}


def test_a_hanging_operation_costs_a_few_timeouts_not_one_per_request() -> None:
    with serving(misbehaving_on_non_objects(hang=True)) as url:
        report = st_run(url, (JSON_OP,), timeout=1.0)

    assert report.errors == []
    result = report.result("st-no-server-error", JSON_OP)
    assert result is not None and result.status is Status.FAILED
    assert result.failed == MAX_NO_RESPONSE
    assert "Timeout" in result.message


SERVED_MODEL = "acme/only-model"
_PART = re.compile(rb'name="(model|fallbacks)"\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--', re.DOTALL)


def named_models(body: bytes) -> list[str] | None:
    """The `model` and `fallbacks` values of a JSON or multipart body (None: no model field at all)."""
    try:
        document = json.loads(body)
    except ValueError:
        parts = [(name.decode(), value.decode("utf-8", "replace")) for name, value in _PART.findall(body)]
        if not any(name == "model" for name, _ in parts):
            return None
        return [_model_name(entry) for _, value in parts for entry in _entries(value)]
    if not isinstance(document, dict) or "model" not in document:
        return None
    fallbacks = document.get("fallbacks")
    return [str(document["model"]), *(map(_model_name, fallbacks) if isinstance(fallbacks, list) else ())]


def _entries(value: str) -> list[Any]:
    """A part's entries: a JSON part may hold one {provider, model} object or an array of them."""
    if value.startswith("[{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return decoded if isinstance(decoded, list) else [decoded]
    return [value]


def _model_name(entry: Any) -> str:
    """A model or a fallback as provider/model: a {provider, model} object (the JSON text of a part too) or a string."""
    if isinstance(entry, str) and entry.startswith("{"):
        try:
            entry = json.loads(entry)
        except ValueError:
            return entry
    if isinstance(entry, dict):
        return f"{entry.get('provider')}/{entry.get('model')}"
    return str(entry)


def one_model_gateway(seen: list[list[str] | None]) -> ASGIApp:
    """A gateway configured for SERVED_MODEL only (as Bifrost or LiteLLM are for theirs): 400 for any other."""

    async def unknown_model(scope: Scope, body: bytes) -> tuple[int, bytes, str] | None:
        models = named_models(body)
        seen.append(models)
        unknown = [model for model in models or () if model != SERVED_MODEL]
        if unknown:
            message = json.dumps({"error": {"message": f"model {unknown[0]!r} is not served here"}})
            return 400, message.encode(), "application/json"
        return None

    return broken(unknown_model)


def test_valid_requests_name_the_run_model() -> None:
    """Positive cases carry --model (in `model` and `fallbacks`), so a gateway serving only that model accepts them;
    negative cases keep their mutations, a missing model among them."""
    seen: list[list[str] | None] = []
    with serving(one_model_gateway(seen)) as url:
        report = st_run(url, (JSON_OP, MULTIPART_OP), model=SERVED_MODEL)

    assert report.errors == []
    assert failing(report) == set(), [(r.requirement.id, r.operation_id, r.message[:300]) for r in report.failed]
    assert report.statuses("st-valid-request-accepted") == {JSON_OP: Status.PASSED, MULTIPART_OP: Status.PASSED}
    assert None in seen, "a negative case without a model was still sent"
    assert any(models and models[0] == SERVED_MODEL and len(models) > 1 for models in seen), "fallbacks pinned too"


def test_valid_requests_naming_another_model_are_refused() -> None:
    """The same gateway with the run's model left at the spec's example: its valid requests get 400."""
    with serving(one_model_gateway([])) as url:
        report = st_run(url, (JSON_OP,))

    assert report.statuses("st-valid-request-accepted") == {JSON_OP: Status.FAILED}
