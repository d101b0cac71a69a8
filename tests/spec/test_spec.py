"""spec/openapi.yaml is valid OpenAPI 3.1, states every fact of the seed documents (names and types), and keeps its
own conventions (tested apart: tests/spec/conventions.py)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pixelpact.generator.loader import SpecError, load_spec
from tests.conftest import SPEC
from tests.spec.conventions import CONVENTIONS
from tests.spec.seeded_facts import FACTS


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec(SPEC)


@pytest.mark.parametrize("fact", FACTS)
def test_spec_states_seeded_fact(spec: dict[str, Any], fact: str) -> None:
    assert FACTS[fact](spec) == []


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_spec_keeps_its_convention(spec: dict[str, Any], convention: str) -> None:
    assert CONVENTIONS[convention](spec) == []


def failing_facts(document: dict[str, Any]) -> set[str]:
    return {name for name, check in {**FACTS, **CONVENTIONS}.items() if check(document)}


def test_facts_and_conventions_are_apart() -> None:
    assert not set(FACTS) & set(CONVENTIONS)


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas_: dict[str, Any] = document["components"]["schemas"]
    return schemas_


@pytest.mark.parametrize(
    ("edit", "fact"),
    [
        (lambda s: schemas(s)["ImageSize"]["enum"].remove("1792x1024"), "size enum"),
        (lambda s: schemas(s)["ImageCount"].update(maximum=8), "n is an integer 1..10"),
        (lambda s: schemas(s)["ResponseFormat"]["enum"].append("png"), "response_format is url | b64_json"),
        (lambda s: schemas(s)["OpenAIImageQuality"]["enum"].pop(), "Azure quality standard|hd, style natural|vivid"),
        (lambda s: schemas(s)["ErrorField"].pop("required"), "error envelope"),
        (lambda s: s["components"]["securitySchemes"].pop("VirtualKeyAuth"), "auth schemes"),
        (lambda s: s["components"]["securitySchemes"]["VirtualKeyAuth"].update(name="x-vk"), "key header names"),
        (
            lambda s: schemas(s)["ImageVariationRequest"].pop("anyOf"),
            "variation: multipart with model and image or image[]",
        ),
        (
            lambda s: schemas(s)["BifrostCacheDebug"]["properties"].pop("similarity"),
            "variation response fields and types",
        ),
        # types, not only names: a boolean cache_hit, integer token counts, an object usage
        (
            lambda s: schemas(s)["BifrostCacheDebug"]["properties"]["cache_hit"].update(type="string"),
            "variation response fields and types",
        ),
        (
            lambda s: schemas(s)["ImageUsage"]["properties"]["input_tokens"].update(type="string"),
            "Azure response fields and types",
        ),
        (
            lambda s: schemas(s)["BifrostResponseExtraFields"]["properties"]["raw_request"].update(type="string"),
            "variation response fields and types",
        ),
        (
            lambda s: schemas(s)["AzureImageGenerationRequest"].update(required=["model", "prompt"]),
            "model non-empty, required off Azure",
        ),
        (lambda s: schemas(s)["Prompt"].pop("minLength"), "prompt is a required non-empty string"),
        (lambda s: schemas(s)["ImageEditRequest"].pop("else"), "prompt is a required non-empty string"),
    ],
    ids=[
        "drop-1792x1024",
        "n-max-8",
        "extra-response-format",
        "azure-quality",
        "error-message-optional",
        "no-virtual-key",
        "virtual-key-header-renamed",
        "image-optional",
        "cache-debug-field",
        "cache-hit-a-string",
        "token-count-a-string",
        "raw-request-a-string",
        "azure-model-required",
        "prompt-may-be-empty",
        "edit-prompt-never-required",
    ],
)
def test_a_changed_fact_fails_the_test_that_names_it(spec: dict[str, Any], edit: Any, fact: str) -> None:
    edited = copy.deepcopy(spec)
    edit(edited)
    assert fact in failing_facts(edited)


def run_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixelpact.conformance.cli", "validate-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_spec_accepts_the_spec() -> None:
    result = run_validate(SPEC)
    assert result.returncode == 0, result.stderr
    assert "valid OpenAPI 3.1.0 (9 operations)" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n"
            "components:\n  schemas:\n    N: {type: integer, maximum: ten}\n",
            "/components/schemas/N/maximum: 'ten' is not of type 'number'",
        ),
        ("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", '/info: "version" is a required property'),
        ("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\n", "expected an OpenAPI 3.1.x document"),
        ("openapi: [\n", "line 2, column 1: YAML syntax error"),
        ("- a list\n", "expected a mapping at the top level"),
    ],
    ids=["bad-maximum", "missing-version", "openapi-3.0", "yaml-syntax", "not-a-mapping"],
)
def test_validate_spec_rejects_a_broken_copy_readably(tmp_path: Path, text: str, message: str) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text(text)
    result = run_validate(broken)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_spec_reports_the_field_of_a_broken_spec_copy(tmp_path: Path) -> None:
    document = yaml.safe_load(SPEC.read_text())
    document["components"]["schemas"]["ImageCount"]["minimum"] = "one"
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError) as caught:
        load_spec(broken)
    assert [str(p) for p in caught.value.problems] == [
        "/components/schemas/ImageCount/minimum: 'one' is not of type 'number'"
    ]
    result = run_validate(broken)
    assert result.returncode == 1 and "ImageCount/minimum" in result.stderr


def test_missing_file_is_a_one_line_reason(tmp_path: Path) -> None:
    result = run_validate(tmp_path / "nope.yaml")
    assert result.returncode == 1
    assert "No such file or directory" in result.stderr and "Traceback" not in result.stderr


def test_no_key_is_left_without_a_value(spec: dict[str, Any]) -> None:
    """A comma inside an unquoted description in a YAML flow mapping silently splits it into stray null keys."""

    def nulls(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            return [p for key, value in node.items() for p in nulls(value, f"{where}/{key}")]
        if isinstance(node, list):
            return [p for i, value in enumerate(node) for p in nulls(value, f"{where}/{i}")]
        return [where] if node is None else []

    assert nulls(spec, "") == []
