"""`pixelpact generate` ends with what changed in the generated API, and says nothing when nothing did."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from pixelpact.generator import api_changes, cli
from tests.conftest import ROOT, SPEC

GENERATED = ROOT / "generated"


def edited_spec(tmp_path: Path) -> Path:
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    schemas["ImageCount"]["maximum"] = 8
    schemas["ImageSize"]["enum"].remove("1792x1024")
    schemas["ImageVariationRequest"]["properties"].pop("user")
    schemas["ImageResponse"]["properties"]["request_id"] = {"type": "string"}
    schemas["Tag"] = {"type": "object", "properties": {"name": {"type": "string"}}}
    schemas["ImageResponse"]["properties"]["tags"] = {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}}
    operation = copy.deepcopy(document["paths"]["/v1/images/generations"])
    operation["post"]["operationId"] = "createImageDraft"
    document["paths"]["/v1/drafts/images/generations"] = operation
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_generate_prints_the_api_changes_then_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out)
    spec = edited_spec(tmp_path)
    assert cli.main(["--spec", str(spec), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "generated API changes:"
    changes = set(lines[2:])
    assert "  + model Tag" in changes
    assert "  + client method create_image_draft" in changes
    assert "  - field user (ImageVariationRequest)" in changes
    assert "  + field request_id (ImageResponse): str | None" in changes
    assert any(line.startswith("  ~ field n (") and "le=10) -> Field(ge=1, le=8)" in line for line in changes)
    assert any(line.startswith("  ~ field size (") and line.endswith(": values -'1792x1024'") for line in changes)

    assert cli.main(["--spec", str(spec), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{out}: already up to date"]


def test_check_says_how_the_api_would_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out)
    assert cli.main(["--spec", str(edited_spec(tmp_path)), "--out", str(out), "--check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "generated API changes:" in lines
    assert "  + client method create_image_draft" in lines
    assert (out / "models.py").read_text() == (GENERATED / "models.py").read_text()


def test_no_summary_when_only_the_text_changed() -> None:
    files = {name: (GENERATED / name).read_text(encoding="utf-8") for name in ("models.py", "client.py")}
    reworded = {
        name: text.replace('"""Number of images to generate"""', '"""How many"""') for name, text in files.items()
    }
    assert reworded != files
    assert api_changes.summary(api_changes.surface(files), api_changes.surface(reworded)) == []


def test_a_first_generation_is_one_line() -> None:
    files = {name: (GENERATED / name).read_text(encoding="utf-8") for name in ("models.py", "client.py")}
    (line,) = api_changes.summary(api_changes.Surface(), api_changes.surface(files))
    assert line.startswith("generated API: ") and "client methods" in line
