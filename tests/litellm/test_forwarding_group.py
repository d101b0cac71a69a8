"""The forwarding group's own behaviour, against a small in-process relay gateway (no LiteLLM needed, no marker).

Each forwarding requirement is killed by a broken relay in the broken-gateway catalogue
(tests/conformance/broken/mutants.py); these tests cover what that catalogue does not: a relay that calls Azure at
Azure's own layout (/openai/deployments/..., served by the upstream's ProviderLayouts), the report saying who
rejected invalid input (the provider, or the gateway itself), and the options around the upstream.

The relay forwards to the recording upstream with its own key, tries fallbacks itself on a provider 5xx and sends a
variation only the first file of `image[]`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pixelpact.conformance.api import CheckError, CheckOptions, check
from pixelpact.conformance.catalogue.requirements import FORWARDING
from pixelpact.conformance.model import Report, Status
from pixelpact.generator.runtime.serve import stub_server
from tests.litellm.proxy import free_port

RELAY_KEY = "sk-relay-own-provider-key"
OPERATIONS = ("createImage", "createImageEdit", "createImageVariation", "azureCreateImage")


def relay(upstream: str, *, validates_n: bool = False) -> Starlette:
    """A forwarding gateway for the spec's native and Azure routes, in front of `upstream`.

    validates_n: reject n above 10 itself (Bifrost does not; a strict gateway may).
    """

    async def forward(request: Request) -> Response:
        path = request.url.path
        if path.startswith("/openai/openai/deployments/"):
            path = path.removeprefix("/openai")  # Bifrost's Azure mount -> Azure's own layout
        headers = {"Authorization": f"Bearer {RELAY_KEY}"}
        if request.headers.get("content-type", "").startswith("multipart/"):
            fields, files = await _form(request, variation=path.endswith("/variations"))
            body: dict[str, Any] = {"data": fields, "files": files}  # turned into httpx's dict form at sending
            values = dict(fields)
        else:
            values = json.loads(await request.body())
            body = {"json": values}
        if validates_n and int(values.get("n", 1)) > 10:
            return JSONResponse({"error": {"message": "n must be at most 10", "param": "n"}}, 400)
        chain = [values.get("model"), *_pop_fallbacks(body)]
        async with httpx.AsyncClient(base_url=upstream, timeout=30) as client:
            for model in chain:
                _set_model(body, model)
                answer = await client.post(path, params=request.query_params, headers=headers, **_httpx(body))
                if answer.status_code < 500:
                    break
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    paths = ["/v1/images/{kind}", "/openai/openai/deployments/{deployment}/images/{kind}"]
    return Starlette(routes=[Route(path, forward, methods=["POST"]) for path in paths])


async def _form(
    request: Request, *, variation: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, tuple[str, bytes, str]]]]:
    form = await request.form()
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.append((name, (value.filename or "file.png", await value.read(), value.content_type or "image/png")))
        else:
            fields.append((name, value))
    images = [item for item in files if item[0] == "image[]"]
    if variation and images:
        files = [item for item in files if item[0] != "image[]"] + images[:1]
    return fields, files


def _httpx(body: dict[str, Any]) -> dict[str, Any]:
    """httpx's async client wants form fields as a dict (repeated names as lists)."""
    if "json" in body:
        return body
    data: dict[str, list[str]] = {}
    for name, value in body["data"]:
        data.setdefault(name, []).append(value)
    return {"data": data, "files": body["files"]}


def _pop_fallbacks(body: dict[str, Any]) -> list[str]:
    """The fallbacks as provider/model, taken out of the body: strings, or the native routes' {provider, model}
    objects (a multipart part holds one as JSON)."""
    if "json" in body:
        entries: list[Any] = body["json"].pop("fallbacks", [])
    else:
        entries = [value for name, value in body["data"] if name == "fallbacks"]
        body["data"] = [(name, value) for name, value in body["data"] if name != "fallbacks"]
    return [_model_name(entry) for entry in entries]


def _model_name(entry: Any) -> str:
    if isinstance(entry, str) and entry.startswith("{"):
        entry = json.loads(entry)
    return f"{entry['provider']}/{entry['model']}" if isinstance(entry, dict) else str(entry)


def _set_model(body: dict[str, Any], model: str | None) -> None:
    if model is None:
        return
    if "json" in body:
        body["json"]["model"] = model
    else:
        body["data"] = [(name, model if name == "model" else value) for name, value in body["data"]]


def run_forwarding(
    operations: tuple[str, ...] = OPERATIONS, *, validates_n: bool = False, host_port: bool = False
) -> Report:
    """`check` with only the forwarding group, the relay in front of the recording upstream check starts.

    host_port: name the upstream as --upstream 127.0.0.1:PORT instead of --upstream-port PORT.
    """
    port = free_port()
    where = {"upstream": f"127.0.0.1:{port}"} if host_port else {"upstream_port": port}
    with stub_server(app=relay(f"http://127.0.0.1:{port}", validates_n=validates_n)) as gateway:
        return check(CheckOptions(base_url=gateway, operations=operations, groups=("forwarding",), seed=3, **where))


def test_a_correct_relay_passes_every_forwarding_requirement() -> None:
    report = run_forwarding()
    assert not report.errors, report.errors
    assert not report.failed, [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    judged = {result.requirement.id for result in report.results if result.status is Status.PASSED}
    assert judged == {requirement.id for requirement in FORWARDING}
    # The relay validates nothing itself: the report names the provider as the one that rejected bad input.
    rejection = report.result("rejection-source-reported", "azureCreateImage")
    assert rejection is not None and "n=11: forwarded, rejected by the provider (400)" in rejection.message
    fallback = report.result("fallback-after-primary-failure", "createImage")
    assert fallback is not None and fallback.message == "the upstream saw: pixelpact-failing (503) -> dall-e-3 (200)"


def test_a_relay_that_validates_is_reported_as_the_rejecting_side() -> None:
    report = run_forwarding(("createImage",), validates_n=True, host_port=True)
    result = report.result("rejection-source-reported", "createImage")
    assert result is not None and result.status is Status.PASSED
    assert "n=11: rejected by the gateway (400), nothing forwarded" in result.message


def test_without_an_upstream_the_forwarding_requirements_are_skipped() -> None:
    with stub_server() as gateway:
        report = check(CheckOptions(base_url=gateway, operations=("createImage",), groups=("forwarding",), seed=1))
    assert {r.status for r in report.results} == {Status.NOT_JUDGED}
    assert all("--upstream-port" in r.message for r in report.results)


def test_an_upstream_needs_a_gateway_in_front_of_it() -> None:
    with pytest.raises(CheckError, match="--base-url"):
        check(CheckOptions(upstream_port=free_port()))
