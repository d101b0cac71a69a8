"""Runs that keep to a provider model's rules (--model, pixelpact.conformance.engine.model_limits), against the stub
playing that model (StubConfig.model_rules) on loopback: no valid request breaks the model's rules, what cannot be
exercised within them is not judged with the reason, the plan shows the limits, an unknown model learns from refusals,
and a field the provider's API does not take may be filtered on the way (issue 20)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.cli.plan import make_plan, render_plan
from pixelpact.conformance.model import Report, Status, Unjudged
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.provider_api import Kind, rules_for
from pixelpact.generator.runtime.serve import stub_server
from tests.conformance.broken.conftest import free_port
from tests.conformance.broken.relay import Relay, RelayGateway
from tests.conformance.broken.toolkit import Request, Response

KIND: dict[str, Kind] = {"generations": "generation", "edits": "edit", "variations": "variation"}


def model_refusals(records: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    """The recorded requests the played model refused: the stub checks the spec first, so each is a request the
    spec allows and the model does not."""
    rules = rules_for(model)
    assert rules is not None
    refused = []
    for record in records:
        if record["status"] != 400 or not record.get("operation_id"):
            continue
        body = record["json"] if isinstance(record["json"], dict) else {}
        for part in record.get("parts") or ():
            if "value" in part:
                body.setdefault(part["name"], part["value"])
        files = sum(1 for part in record.get("parts") or () if part.get("name") in {"image", "image[]"})
        refusal = rules.refusal(KIND[record["path"].rstrip("/").rsplit("/", 1)[-1]], body, files)
        if refusal is not None and refusal.message == record["error"]:
            refused.append(record)
    return refused


def quick_run(model: str | None, played: str | None, **options: Any) -> tuple[Report, list[dict[str, Any]]]:
    options.setdefault("profile", "quick")
    with stub_server(StubConfig(model_rules=played)) as url:
        report = check(CheckOptions(base_url=url, seed=7, model=model, **options))
        records = httpx.get(f"{url}/_pixelpact/requests", params={"limit": 100000}, timeout=30).json()["requests"]
    return report, records


@pytest.fixture(scope="module")
def gpt_image() -> tuple[Report, list[dict[str, Any]]]:
    return quick_run("openai/gpt-image-1", "gpt-image-1")


@pytest.fixture(scope="module")
def dall_e_3() -> tuple[Report, list[dict[str, Any]]]:
    return quick_run("openai/dall-e-3", "dall-e-3")


def _result(report: Report, requirement_id: str, operation_id: str) -> Any:
    return next(r for r in report.results if (r.requirement.id, r.operation_id) == (requirement_id, operation_id))


def test_no_request_of_a_quick_run_breaks_gpt_image_1_s_rules(gpt_image: tuple[Report, list[dict[str, Any]]]) -> None:
    report, records = gpt_image
    assert model_refusals(records, "gpt-image-1") == []
    assert report.verdict == "pass", [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    control = [r for r in records if r["status"] == 200 and r["path"] == "/v1/images/generations"]
    assert control and all((r["json"] or {}).get("size", "1024x1024") != "256x256" for r in control)
    assert all("response_format" not in (r["json"] or {}) for r in control)


def test_what_gpt_image_1_does_not_take_is_not_judged_with_the_reason(
    gpt_image: tuple[Report, list[dict[str, Any]]],
) -> None:
    report, _ = gpt_image
    url = _result(report, "url-is-absolute", "createImage")
    assert (url.status, url.reason) == (Status.NOT_JUDGED, Unjudged.NOT_APPLICABLE)
    assert "gpt-image-1 does not take response_format" in url.message and "openai 2.54.0" in url.message
    variation = _result(report, "valid-request-accepted", "createImageVariation")
    assert variation.status is Status.NOT_JUDGED and "does not take variations" in variation.message
    assert _result(report, "b64-json-is-image", "createImage").status is Status.PASSED
    assert _result(report, "n-out-of-range-rejected", "createImage").status is Status.PASSED


def test_no_request_of_a_quick_run_breaks_dall_e_3_s_rules(dall_e_3: tuple[Report, list[dict[str, Any]]]) -> None:
    report, records = dall_e_3
    assert model_refusals(records, "dall-e-3") == []
    assert report.verdict == "pass", [(r.requirement.id, r.operation_id, r.message) for r in report.failed]
    accepted = [r for r in records if r["status"] == 200 and isinstance(r["json"], dict)]
    assert accepted and all(r["json"].get("n", 1) == 1 for r in accepted)
    stream = _result(report, "stream-content-type", "createImage")
    assert stream.status is Status.NOT_JUDGED and "dall-e-3 does not take stream" in stream.message
    edit = _result(report, "valid-request-accepted", "openaiCreateImageEdit")
    assert edit.status is Status.NOT_JUDGED and "does not take edits" in edit.message


def test_without_the_rules_the_same_run_blames_the_gateway_for_the_model() -> None:
    """What the rules prevent: the spec's cheapest control (256x256, b64_json) refused by a GPT image model."""
    report, records = quick_run(None, "gpt-image-1", operations=("createImage",), groups=("valid", "invalid"))
    assert model_refusals(records, "gpt-image-1")
    assert report.verdict == "fail"


def test_the_plan_shows_the_limits_the_run_keeps_to() -> None:
    options = CheckOptions(model="dall-e-3", profile="quick", seed=7, operations=("createImage",), groups=("valid",))
    plan = make_plan(options)
    shown = render_plan(plan, None)
    assert "model dall-e-3: valid requests keep to its rules" in shown
    assert "edits: not served" in shown and "size 1024x1024, 1792x1024, 1024x1792" in shown
    assert plan.as_dict()["limits"] == plan.limits
    unknown = render_plan(make_plan(CheckOptions(model="acme/painter-7", profile="quick", seed=7,
                                                 operations=("createImage",), groups=("valid",))), None)  # fmt: skip
    assert "'acme/painter-7' is not in the table of model rules" in unknown and "spec's ranges" in unknown


def test_an_unknown_model_learns_from_the_provider_s_refusals() -> None:
    report, records = quick_run(
        "acme/house-model", "gpt-image-1", operations=("createImage",), groups=("valid", "invalid")
    )
    notes = "\n".join(report.notes)
    assert "'acme/house-model' is not in the table of model rules" in notes
    assert "the provider refused size='256x256'" in notes and "size='1024x1024' used instead" in notes
    assert "the provider refused response_format='b64_json'" in notes
    assert _result(report, "valid-request-accepted", "createImage").status is Status.PASSED
    assert _result(report, "n-out-of-range-rejected", "createImage").status is Status.PASSED
    refused_controls = [r for r in model_refusals(records, "gpt-image-1") if "256x256" in str(r["json"])]
    assert len(refused_controls) == 1, "the refused value is tried once"


def _without(*names: str) -> Any:
    def outgoing(req: Request) -> Request | None:
        body = req.json()
        if body is None or not set(names) & body.keys():
            return None
        return req.with_json({k: v for k, v in body.items() if k not in names})

    return outgoing


@pytest.mark.parametrize(
    ("dropped", "status"),
    [(("seed", "negative_prompt", "num_inference_steps"), Status.PASSED), (("quality",), Status.FAILED)],
)
def test_a_field_the_provider_api_does_not_take_may_be_filtered(dropped: tuple[str, ...], status: Status) -> None:
    port = free_port()
    options = CheckOptions(
        operations=("createImage",), groups=("forwarding",), seed=7, upstream_port=port, profile="quick"
    )
    with stub_server(app=RelayGateway(f"http://127.0.0.1:{port}", Relay(outgoing=_without(*dropped)))) as url:
        options.base_url = url
        report = check(options)
    intact = _result(report, "request-forwarded-intact", "createImage")
    assert intact.status is status, intact.message
    if status is Status.PASSED:
        assert "filtered by the gateway, which openai's image API does not take" in intact.message
        assert all(name in intact.message for name in dropped)
    else:
        assert "dropped quality" in intact.message


@pytest.mark.parametrize("model", ["gpt-image-1", "dall-e-3"])
def test_schemathesis_positive_fuzzing_keeps_to_the_model(model: str) -> None:
    """deep fuzzes valid requests (its coverage and fuzzing phases; standard sends the spec's examples): drawn from
    the spec, they ask for sizes, n and fields the model does not take; kept to its rules, none is refused by the
    provider and st-valid-request-accepted passes."""
    report, records = quick_run(
        f"openai/{model}", model, profile="deep", operations=("createImage",), groups=("schemathesis",), max_examples=3
    )
    assert model_refusals(records, model) == []
    accepted = _result(report, "st-valid-request-accepted", "createImage")
    assert accepted.status is Status.PASSED, accepted.message
    assert sum(1 for r in records if r["status"] == 200) >= 3, "positive cases were sent and answered"


class ValidatingRelay(RelayGateway):
    """A relay that refuses n above the spec's maximum itself, with the error envelope, before forwarding anything."""

    async def handle(self, req: Request) -> Response:
        body = req.json()
        if isinstance(body, dict) and isinstance(body.get("n"), int) and body["n"] > 10:
            return Response(400, [(b"content-type", b"application/json")], b'{"error": {"message": "n: at most 10"}}')
        return await super().handle(req)


@pytest.mark.parametrize(("gateway", "source"), [(RelayGateway, "provider"), (ValidatingRelay, "gateway")])
def test_out_of_contract_values_still_go_out_under_a_model_and_the_refusal_names_its_source(
    gateway: type[RelayGateway], source: str
) -> None:
    """dall-e-3 takes only n=1; the requirements about the gateway's own validation still send n=11 (the spec's
    maximum plus one), and the provider's refusal, passed on faithfully, is told apart from the gateway's own."""
    port = free_port()
    options = CheckOptions(
        operations=("createImage",), groups=("invalid", "forwarding"), seed=7, upstream_port=port, profile="quick",
        model="openai/dall-e-3", upstream_model_rules="dall-e-3",
    )  # fmt: skip
    with stub_server(app=gateway(f"http://127.0.0.1:{port}")) as url:
        options.base_url = url
        report = check(options)
    rejection = _result(report, "rejection-source-reported", "createImage")
    assert rejection.status is Status.PASSED, rejection.message
    if source == "provider":
        assert "n=11: forwarded, rejected by the provider (400), the gateway answering 400" in rejection.message
    else:
        assert "n=11: rejected by the gateway (400), nothing forwarded" in rejection.message
    assert _result(report, "n-out-of-range-rejected", "createImage").status is Status.PASSED
    assert report.verdict == "pass", [(r.requirement.id, r.message) for r in report.failed]


def test_the_every_field_probe_asks_for_the_fewest_images_and_forwarded_n_keeps_its_two() -> None:
    """request-forwarded-intact only needs n to arrive as sent: it asks for one image, at the model's cheapest
    non-default quality; forwarded-n needs an n that differs from the default (a gateway that drops n and lets the
    provider default is seen), and keeps n=2."""
    bodies: list[dict[str, Any]] = []

    def outgoing(req: Request) -> Request | None:
        body = req.json()
        if isinstance(body, dict):
            bodies.append(body)
        return None

    port = free_port()
    options = CheckOptions(
        operations=("createImage",), groups=("forwarding",), seed=7, upstream_port=port, profile="quick",
        model="openai/gpt-image-1", upstream_model_rules="gpt-image-1",
    )  # fmt: skip
    with stub_server(app=RelayGateway(f"http://127.0.0.1:{port}", Relay(outgoing=outgoing))) as url:
        options.base_url = url
        report = check(options)
    every_field = max(bodies, key=len)
    assert every_field.get("n") == 1 and "output_format" in every_field, every_field
    assert every_field.get("quality") == "low", "a real model bills by quality: the cheapest non-default one"
    assert any(body.get("n") == 2 and len(body) < len(every_field) for body in bodies)
    for requirement_id in ("request-forwarded-intact", "forwarded-n"):
        assert _result(report, requirement_id, "createImage").status is Status.PASSED


def test_the_n_bounds_a_deep_run_probes_are_dall_e_3_s() -> None:
    """quick asks n at its minimum anyway; deep's valid group sends n at its bounds and the properties draw n: for
    dall-e-3 both keep to n=1, and nothing is refused for it."""
    report, records = quick_run(
        "openai/dall-e-3", "dall-e-3", profile="deep", operations=("createImage",), groups=("valid", "properties"),
        max_examples=3,
    )  # fmt: skip
    assert model_refusals(records, "dall-e-3") == []
    sent = [r["json"] for r in records if isinstance(r["json"], dict) and r["status"] == 200]
    assert sent and all(body.get("n", 1) == 1 for body in sent)
    assert report.verdict == "pass", [(r.requirement.id, r.message) for r in report.failed]
