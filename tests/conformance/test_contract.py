"""The contract is read from the spec at run time: its facts, and a spec edit changing what the suite sends and
expects (nothing hard-coded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.engine.context import RunContext, Target
from pixelpact.conformance.engine.contract import Contract, load_contract
from pixelpact.conformance.groups import invalid, valid
from pixelpact.conformance.groups._judge import schema_problem
from pixelpact.conformance.model import Status
from pixelpact.conformance.wire.http import Redactor, Sender
from tests.conformance.conftest import failing

SPEC = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(SPEC)


def test_operations_and_their_facts(contract: Contract) -> None:
    assert len(contract.operations) == 9
    create = contract.operation("createImage")
    assert (create.kind, create.family, create.media_type) == ("generations", "native", "application/json")
    assert create.integer_range("n") == (1, 10)
    assert create.default("n") == 1
    assert "1792x1024" in (create.enum("size") or ())
    assert create.required == {"model", "prompt"}
    assert create.streams and "image_generation.completed" in create.stream_event_types

    edit = contract.operation("azureCreateImageEdit")
    assert edit.is_multipart and edit.file_fields == {"image", "mask"} and edit.file_list_fields == {"image[]"}
    assert edit.one_of_required == (frozenset({"image"}), frozenset({"image[]"}))
    assert edit.required == {"prompt"}  # the deployment names the model
    assert "1792x1024" not in (edit.enum("size") or ())
    assert "api-key" in edit.security_headers
    assert set(edit.auth_schemes) == {"bearer", "basic", "x-bf-vk", "x-api-key", "api-key"}

    variation = contract.operation("openaiCreateImageVariation")
    assert not variation.streams and not variation.accepts_auth("api-key") and variation.accepts_auth("basic")
    assert schema_problem(variation.response_schema, {"created": 1, "data": [{"url": "http://x/1.png"}]}) is None
    assert "'created' is a required property" in (schema_problem(variation.response_schema, {"data": []}) or "")
    assert variation.error_schema is not None
    assert schema_problem(variation.error_schema, {"error": {"message": ""}}) is not None  # minLength 1


def probes_and_cases(contract: Contract, operation_id: str) -> tuple[list[invalid.Probe], list[valid.Case]]:
    sender = Sender(timeout=1, concurrency=1, max_requests=0, redactor=Redactor([]))
    ctx = RunContext(
        contract, contract.operations, Target("http://127.0.0.1:9"), sender, seed=1, max_examples=1, concurrency=1
    )
    operation = contract.operation(operation_id)
    return invalid.probes_for(ctx, operation), valid.cases_for(ctx, operation)


def edited_spec(tmp_path: Path, edit: dict[str, object], schema: str = "ImageCount") -> Path:
    document = yaml.safe_load(SPEC.read_text())
    document["components"]["schemas"][schema].update(edit)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_spec_edit_changes_what_is_sent(tmp_path: Path, contract: Contract) -> None:
    edited = load_contract(edited_spec(tmp_path, {"maximum": 8}))

    for source, top in ((contract, 10), (edited, 8)):
        probes, cases = probes_and_cases(source, "createImageEdit")
        out_of_range = {p.body["n"] for p in probes if p.requirement_id == "n-out-of-range-rejected" and p.body}
        assert out_of_range == {0, top + 1, -1}
        assert max(case.n for case in cases) == top


def test_a_spec_edit_changes_the_verdict(tmp_path: Path, stub_url: str) -> None:
    """The stub still allows n up to 10; told by the spec that 8 is the maximum, the suite sends n=9 and fails it."""
    options = {
        "base_url": stub_url,
        "operations": ("createImage", "openaiCreateImageVariation"),
        "groups": ("invalid",),
        "seed": 1,
    }
    assert check(CheckOptions(**options)).verdict == "pass"  # type: ignore[arg-type]

    report = check(CheckOptions(**options, spec=edited_spec(tmp_path, {"maximum": 8})))  # type: ignore[arg-type]

    assert failing(report) == {
        ("n-out-of-range-rejected", "createImage"),
        ("n-out-of-range-rejected", "openaiCreateImageVariation"),
    }
    result = report.result("n-out-of-range-rejected", "createImage")
    assert result is not None and result.status is Status.FAILED
    assert "n=9: expected a 4xx, got 200" in result.message


def test_forbidding_extra_fields_in_the_spec_makes_extra_parts_a_failure(tmp_path: Path, stub_url: str) -> None:
    """The stub tolerates unknown parts, as the spec says; a spec that forbids them turns that 200 into a failure."""
    spec = edited_spec(tmp_path, {"additionalProperties": False}, schema="ImageVariationRequest")
    report = check(
        CheckOptions(base_url=stub_url, operations=("createImageVariation",), groups=("robustness",), seed=1, spec=spec)
    )

    result = report.result("hostile-part-names-survive", "createImageVariation")
    assert result is not None and result.status is Status.FAILED
    assert "the spec forbids extra parts (additionalProperties: false)" in result.message


def test_a_field_required_unless_another_has_a_value_is_probed_on_both_sides(contract: Contract) -> None:
    """The spec's if/else on edits (prompt unless type is background_removal): the invalid group leaves the prompt
    out with no type, the valid group sends background_removal without one."""
    edit = contract.operation("createImageEdit")
    assert edit.required == {"model"}
    [rule] = edit.required_unless
    assert rule.required == {"prompt"} and dict(rule.unless) == {"type": "background_removal"}
    assert edit.required_in({}) == {"model", "prompt"}
    assert edit.required_in({"type": "inpainting"}) == {"model", "prompt"}
    assert edit.required_in({"type": "background_removal"}) == {"model"}

    probes, cases = probes_and_cases(contract, "createImageEdit")
    [without] = [p for p in probes if p.label == "without prompt"]
    assert without.requirement_id == "missing-required-rejected" and without.body is not None
    assert "prompt" not in without.body and "type" not in without.body and "model" in without.body
    [empty] = [p for p in probes if p.label == "prompt=''"]
    assert empty.body is not None and empty.body["prompt"] == "" and "type" not in empty.body
    [waived] = [c for c in cases if c.label == "type=background_removal without prompt"]
    assert waived.requirements == ("valid-request-accepted",)
    assert waived.body["type"] == "background_removal" and "prompt" not in waived.body
    assert all("prompt" in c.body for c in cases if c is not waived)
