"""A `$ref` that points at nothing: validate-spec names it by its JSON pointer (exit 1), check says so in one line
(exit 2). The OpenAPI validator alone calls such a document valid, and the suite crashed on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from pixelpact.generator.loader import DEFAULT_SPEC, dangling_refs, read_document


def broken_copy(tmp_path: Path) -> Path:
    document = read_document(DEFAULT_SPEC)
    schemas = document["components"]["schemas"]
    request = next(name for name, schema in schemas.items() if "n" in (schema.get("properties") or {}))
    schemas[request]["properties"]["n"] = {"$ref": "#/components/schemas/NoSuchSchema"}
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def pixelpact(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixelpact.conformance.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_the_shipped_spec_has_no_dangling_ref() -> None:
    assert list(dangling_refs(read_document(DEFAULT_SPEC))) == []


def test_validate_spec_names_the_dangling_ref_by_its_pointer(tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    problems = [str(problem) for problem in dangling_refs(read_document(path))]
    assert len(problems) == 1 and problems[0].endswith(
        "/properties/n/$ref: '#/components/schemas/NoSuchSchema' points at nothing in this document"
    ), problems
    result = pixelpact("validate-spec", str(path))
    assert result.returncode == 1
    assert "/properties/n/$ref" in result.stderr and "NoSuchSchema" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_exits_2_with_one_line(tmp_path: Path) -> None:
    result = pixelpact("check", "--spec", str(broken_copy(tmp_path)), "--base-url", "http://127.0.0.1:9")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NoSuchSchema" in lines[0] and lines[0].startswith("pixelpact check: "), lines


def test_refs_into_lists_and_escaped_names_resolve() -> None:
    document = {
        "a": [{"b~/c": 1}],
        "x": {"$ref": "#/a/0/b~0~1c"},
        "y": {"$ref": "#/a/1"},
        "z": {"$ref": "other.yaml#/nowhere"},  # not local: another file's business
    }
    assert [problem.where for problem in dangling_refs(document)] == ["/y/$ref"]
