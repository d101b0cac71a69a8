"""The hypothesis properties over the generated client: pass on the stub, deterministic under the seed, bounded by
--max-examples, and failing on gateways that get the count, the dimensions or the rejection of bad input wrong."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.conformance.groups.properties import INVALID_ID, VALID_ID
from pixelpact.conformance.model import Report, Status
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.conftest import API_KEY, failing, run

OPERATIONS = ("createImage", "openaiCreateImageEdit", "azureCreateImageVariation")


def prop_run(url: str, **options: object) -> Report:
    return run(url, groups=("properties",), **options)


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    with stub_server(app=app) as url:
        yield url


def recording(bodies: list[bytes]) -> ASGIApp:
    """The stub, keeping every request body it is sent (in arrival order)."""
    app = default_app(StubConfig())
    lock = threading.Lock()

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        async def keep() -> Message:
            message = await receive()
            with lock:
                bodies.append(message.get("body", b""))
            return message

        await app(scope, keep, send)

    return gateway


def rewriting_json(fn: object) -> ASGIApp:
    """The stub with every 200 JSON body passed through fn(document) -> document."""
    app = default_app(StubConfig())

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Message] = {}

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start["message"] = message
                return
            body = message.get("body", b"")
            if start["message"]["status"] == 200 and body.startswith(b"{"):
                body = json.dumps(fn(json.loads(body))).encode()  # type: ignore[operator]
            headers = [(k, v) for k, v in start["message"]["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start["message"], "headers": headers})
            await send({**message, "body": body, "more_body": False})

        await app(scope, receive, rewrite)

    return gateway


@pytest.mark.parametrize("seed", [1, 99])
def test_stub_satisfies_both_properties(stub_url: str, seed: int) -> None:
    report = prop_run(stub_url, seed=seed, operations=OPERATIONS, max_examples=6)

    assert report.errors == []
    assert failing(report) == set(), [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    for requirement_id in (VALID_ID, INVALID_ID):
        assert report.statuses(requirement_id) == dict.fromkeys(OPERATIONS, Status.PASSED)
    # Bounded: two properties, max_examples each, on each operation.
    assert report.requests_sent == 2 * 6 * len(OPERATIONS)


def test_the_seed_fixes_the_requests() -> None:
    runs: list[list[bytes]] = []
    for seed in (5, 5, 6):
        bodies: list[bytes] = []
        with serving(recording(bodies)) as url:
            prop_run(url, seed=seed, operations=("createImage",), max_examples=5, concurrency=1)
        runs.append(bodies)

    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_wrong_dimensions_are_caught() -> None:
    def halve(document: dict[str, object]) -> dict[str, object]:
        for item in document.get("data", []):  # type: ignore[attr-defined]
            if item.get("b64_json"):
                image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
                small = image.resize((max(1, image.width // 2), image.height))
                buffer = io.BytesIO()
                small.save(buffer, format="PNG")
                item["b64_json"] = base64.b64encode(buffer.getvalue()).decode()
        return document

    with serving(rewriting_json(halve)) as url:
        report = prop_run(url, operations=("createImage",), max_examples=3)

    assert failing(report) == {(VALID_ID, "createImage")}
    result = report.result(VALID_ID, "createImage")
    assert result is not None and "expected" in result.message and "x" in result.message
    assert result.failures[0].exchange is not None and result.failures[0].exchange.curl.startswith("curl ")


def test_a_missing_image_is_caught() -> None:
    def drop_last(document: dict[str, object]) -> dict[str, object]:
        return {**document, "data": document.get("data", [])[:-1]}  # type: ignore[index]

    with serving(rewriting_json(drop_last)) as url:
        report = prop_run(url, operations=("createImage",), max_examples=3)

    assert (VALID_ID, "createImage") in failing(report)


def test_accepting_invalid_values_is_caught() -> None:
    """A gateway that answers every request 200 (with one image), whatever n or size says."""
    one_image = {"created": 1, "data": [{"url": "http://127.0.0.1/x.png"}]}

    async def yes(scope: Scope, receive: Receive, send: Send) -> None:
        body = json.dumps(one_image).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    with serving(yes) as url:
        report = prop_run(url, operations=("createImage",), max_examples=3)

    assert (INVALID_ID, "createImage") in failing(report)
    result = report.result(INVALID_ID, "createImage")
    assert result is not None and "expected a 4xx, got a 200" in result.message


def test_the_budget_is_respected(stub_url: str) -> None:
    report = prop_run(stub_url, operations=("createImage", "createImageVariation"), max_examples=5, max_requests=7)

    assert report.requests_sent == 7
    assert report.errors == []
    skipped = [r for r in report.results if r.status is Status.NOT_JUDGED]
    assert skipped and all("--max-requests" in r.message for r in skipped)


def test_prefix_and_credentials_reach_the_gateway() -> None:
    """Azure routes served at /openai/deployments (LiteLLM's layout) behind a key: both come from the run."""
    app = default_app(StubConfig(api_keys=(API_KEY,)))

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
        report = prop_run(
            url,
            operations=("azureCreateImageVariation",),
            max_examples=2,
            api_key=API_KEY,
            prefixes=(("/openai/openai/deployments", "/openai/deployments"),),
        )

    assert failing(report) == set(), [(r.requirement.id, r.message) for r in report.failed]
    assert report.statuses(VALID_ID) == {"azureCreateImageVariation": Status.PASSED}
    sample = report.result(VALID_ID, "azureCreateImageVariation")
    assert sample is not None and sample.sample is not None
    assert "/openai/deployments/" in sample.sample.url and API_KEY not in sample.sample.curl
