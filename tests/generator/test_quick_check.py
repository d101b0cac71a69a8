"""generate's quick validation pass: valid specs skip openapi-spec-validator, anything it doubts goes through it."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pixelpact.generator import cli, quick_check
from pixelpact.generator.loader import DEFAULT_SPEC, read_document

CASES = Path(__file__).parent / "golden" / "cases"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return read_document(DEFAULT_SPEC)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "openapi.yaml").is_file()))
def test_the_golden_specs_pass(case: str) -> None:
    assert quick_check.looks_valid(read_document(CASES / case / "openapi.yaml"))


def test_a_cold_generate_of_the_real_spec_never_imports_the_slow_validator(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from pixelpact.generator.build import generate\n"
        "from pixelpact.generator.loader import DEFAULT_SPEC\n"
        "generate(DEFAULT_SPEC)\n"
        "print('openapi_spec_validator' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"


def _edited(spec: dict[str, Any], edit: str) -> dict[str, Any]:
    document = copy.deepcopy(spec)
    paths = document["paths"]
    first, second = list(paths)[:2]
    if edit == "duplicate-operation-id":
        paths[second]["post"]["operationId"] = paths[first]["post"]["operationId"]
    elif edit == "undeclared-path-parameter":
        paths[first + "/{image_id}"] = paths.pop(first)
    elif edit == "malformed-schema":
        document["components"]["schemas"]["ImageCount"]["maximum"] = "ten"
    elif edit == "not-3.1":
        document["openapi"] = "3.0.3"
    elif edit == "no-info":
        del document["info"]
    return document


EDITS = ["duplicate-operation-id", "undeclared-path-parameter", "malformed-schema", "not-3.1", "no-info"]


@pytest.mark.parametrize("edit", EDITS)
def test_what_it_doubts_goes_to_the_full_validator(spec: dict[str, Any], edit: str) -> None:
    assert quick_check.looks_valid(spec)
    assert not quick_check.looks_valid(_edited(spec, edit))


@pytest.mark.parametrize("edit", EDITS)
def test_generate_reports_it_with_the_full_validator(
    spec: dict[str, Any], edit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(_edited(spec, edit), sort_keys=False), encoding="utf-8")
    assert cli.main(["--spec", str(path), "--out", str(tmp_path / "out"), "--check", "--no-cache"]) == 2
    assert "not a valid OpenAPI 3.1 document" in capsys.readouterr().err
