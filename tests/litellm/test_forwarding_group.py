"""The forwarding group judged against small in-process gateways: a correct relay passes, each broken one fails
the requirement it breaks. These tests need no LiteLLM (no `litellm` marker): they keep the two-sided checks honest
on every run, while the LiteLLM tier shows them on a real gateway.

The relay is a minimal gateway of the spec's kind: it forwards to the recording upstream with its own key, tries
fallbacks itself on a provider 5xx, sends a variation only the first file of `image[]`, and maps Bifrost's Azure
mount onto Azure's own layout. Each `Breakage` switches one of those duties off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.api import CheckError, CheckOptions, check
from conformance.model import Report, Status
from conformance.requirements import FORWARDING
from generator.runtime.serve import stub_server
from tests.litellm.proxy import free_port

RELAY_KEY = "sk-relay-own-provider-key"
OPERATIONS = ("createImage", "createImageEdit", "createImageVariation", "azureCreateImage")


@dataclass(frozen=True)
class Breakage:
    """What the relay gets wrong (all False: a correct gateway)."""

    drop_user: bool = False
    clamp_n: int | None = None
    all_variation_files: bool = False
    drop_mask: bool = False
    leak_client_key: bool = False
    pass_fallbacks_on: bool = False
    answer_500_for_provider_4xx: bool = False
    validate_n: bool = False


def relay(upstream: str, breakage: Breakage) -> Starlette:
    """A forwarding gateway for the spec's native and Azure routes, in front of `upstream`."""

    async def forward(request: Request) -> Response:
        path = request.url.path
        if path.startswith("/openai/openai/deployments/"):
            path = path.removeprefix("/openai")  # Bifrost's Azure mount -> Azure's own layout
        headers = {"Authorization": request.headers["authorization"]} if breakage.leak_client_key else {}
        headers.setdefault("Authorization", f"Bearer {RELAY_KEY}")
        if request.headers.get("content-type", "").startswith("multipart/"):
            fields, files = await _form(request, breakage, variation=path.endswith("/variations"))
            body: dict[str, Any] = {"data": fields, "files": files}  # turned into httpx's dict form at sending
            values = dict(fields)
        else:
            values = json.loads(await request.body())
            if breakage.drop_user:
                values.pop("user", None)
            if breakage.clamp_n is not None and isinstance(values.get("n"), int):
                values["n"] = min(values["n"], breakage.clamp_n)
            body = {"json": values}
        if breakage.validate_n and int(values.get("n", 1)) > 10:
            return JSONResponse({"error": {"message": "n must be at most 10", "param": "n"}}, 400)
        chain = [values.get("model")]
        if not breakage.pass_fallbacks_on:
            chain += _pop_fallbacks(body)
        async with httpx.AsyncClient(base_url=upstream, timeout=30) as client:
            for model in chain:
                _set_model(body, model)
                answer = await client.post(path, params=request.query_params, headers=headers, **_httpx(body))
                if answer.status_code < 500:
                    break
        status = answer.status_code
        if breakage.answer_500_for_provider_4xx and 400 <= status < 500:
            status = 500
        return Response(answer.content, status, media_type=answer.headers.get("content-type"))

    paths = ["/v1/images/{kind}", "/openai/openai/deployments/{deployment}/images/{kind}"]
    return Starlette(routes=[Route(path, forward, methods=["POST"]) for path in paths])


async def _form(
    request: Request, breakage: Breakage, *, variation: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, tuple[str, bytes, str]]]]:
    form = await request.form()
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name == "mask" and breakage.drop_mask:
                continue
            files.append((name, (value.filename or "file.png", await value.read(), value.content_type or "image/png")))
        elif name == "user" and breakage.drop_user:
            continue
        elif name == "n" and breakage.clamp_n is not None:
            fields.append((name, str(min(int(value), breakage.clamp_n))))
        else:
            fields.append((name, value))
    images = [item for item in files if item[0] == "image[]"]
    if variation and images and not breakage.all_variation_files:
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
    if "json" in body:
        fallbacks: list[str] = body["json"].pop("fallbacks", [])
        return fallbacks
    fallbacks = [value for name, value in body["data"] if name == "fallbacks"]
    body["data"] = [(name, value) for name, value in body["data"] if name != "fallbacks"]
    return fallbacks


def _set_model(body: dict[str, Any], model: str | None) -> None:
    if model is None:
        return
    if "json" in body:
        body["json"]["model"] = model
    else:
        body["data"] = [(name, model if name == "model" else value) for name, value in body["data"]]


def run_forwarding(breakage: Breakage, operations: tuple[str, ...] = OPERATIONS) -> Report:
    """`check` with only the forwarding group, the relay in front of the recording upstream check starts."""
    port = free_port()
    with stub_server(app=relay(f"http://127.0.0.1:{port}", breakage)) as gateway:
        return check(
            CheckOptions(base_url=gateway, operations=operations, groups=("forwarding",), upstream_port=port, seed=3)
        )


def failures(report: Report) -> dict[str, set[str]]:
    failed: dict[str, set[str]] = {}
    for result in report.results:
        if result.status is Status.FAIL:
            failed.setdefault(result.requirement.id, set()).add(result.operation_id)
    return failed


def test_a_correct_relay_passes_every_forwarding_requirement() -> None:
    report = run_forwarding(Breakage())
    assert not report.errors, report.errors
    assert failures(report) == {}, [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    judged = {result.requirement.id for result in report.results if result.status is Status.PASS}
    assert judged == {requirement.id for requirement in FORWARDING}
    # The relay validates nothing itself: the report names the provider as the one that rejected bad input.
    rejection = report.result("rejection-source-reported", "createImage")
    assert rejection is not None and "n=11: forwarded, rejected by the provider (400)" in rejection.message


@pytest.mark.parametrize(
    ("breakage", "requirement", "operations"),
    [
        (Breakage(drop_user=True), "forwarded-user", set(OPERATIONS)),
        (Breakage(clamp_n=1), "forwarded-n", set(OPERATIONS)),
        (Breakage(all_variation_files=True), "variation-first-file-forwarded", {"createImageVariation"}),
        (Breakage(drop_mask=True), "edit-files-forwarded", {"createImageEdit"}),
        (Breakage(leak_client_key=True), "gateway-credentials-upstream", set(OPERATIONS)),
        (Breakage(pass_fallbacks_on=True), "fallback-after-primary-failure", {"createImage", "createImageEdit"}),
        (Breakage(answer_500_for_provider_4xx=True), "rejection-source-reported", set(OPERATIONS)),
    ],
    ids=lambda value: (
        next((k for k, v in vars(value).items() if v not in (False, None)), None)
        if isinstance(value, Breakage)
        else None
    ),
)
def test_each_broken_relay_fails_the_requirement_it_breaks(
    breakage: Breakage, requirement: str, operations: set[str]
) -> None:
    report = run_forwarding(breakage, tuple(op for op in OPERATIONS if op in operations))
    failed = failures(report)
    assert failed.get(requirement, set()) >= operations, {r.requirement.id: r.message for r in report.failed}


def test_a_relay_that_validates_is_reported_as_the_rejecting_side() -> None:
    report = run_forwarding(Breakage(validate_n=True), ("createImage",))
    result = report.result("rejection-source-reported", "createImage")
    assert result is not None and result.status is Status.PASS
    assert "n=11: rejected by the gateway (400), nothing forwarded" in result.message


def test_without_an_upstream_the_forwarding_requirements_are_skipped() -> None:
    with stub_server() as gateway:
        report = check(CheckOptions(base_url=gateway, operations=("createImage",), groups=("forwarding",), seed=1))
    assert {r.status for r in report.results} == {Status.SKIP}
    assert all("--upstream-port" in r.message for r in report.results)


def test_an_upstream_needs_a_gateway_in_front_of_it() -> None:
    with pytest.raises(CheckError, match="--base-url"):
        check(CheckOptions(upstream_port=free_port()))
