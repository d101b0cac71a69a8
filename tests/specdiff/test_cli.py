"""`pixelpact diff` end to end: exit status, formats, git refs, one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from pixelpact.conformance.cli import main
from tests.conftest import ROOT, SPEC
from tests.specdiff.edits import EDITS, apply, original


def write(tmp_path: Path, edit_name: str) -> Path:
    edit = next(edit for edit in EDITS if edit.name == edit_name)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(apply(original(), edit), sort_keys=False), encoding="utf-8")
    return path


def test_no_change_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(SPEC), str(SPEC)]) == 0
    assert "no change of the contract" in capsys.readouterr().out


def test_a_client_break_exits_1_with_a_readable_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = write(tmp_path, "n's maximum 10 -> 8")
    assert main(["diff", str(SPEC), str(edited)]) == 1
    out = capsys.readouterr().out
    assert "[breaks clients] ImageCount: maximum 10 -> 8" in out
    assert "request field `n` in 9 operation(s): createImage" in out
    assert f"pixelpact check --base-url URL --spec {edited} --changed-since {SPEC}" in out


def test_fail_on_counts_only_the_named_party(tmp_path: Path) -> None:
    widened = write(tmp_path, "n's maximum 10 -> 12")  # breaks gateways only
    assert main(["diff", str(SPEC), str(widened), "--fail-on", "clients"]) == 0
    assert main(["diff", str(SPEC), str(widened), "--fail-on", "gateways"]) == 1
    assert main(["diff", str(SPEC), str(widened)]) == 1


def test_json_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = write(tmp_path, "drop size 1792x1024")
    main(["diff", str(SPEC), str(edited), "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == {"changes": 2, "break_clients": 1, "break_gateways": 1, "compatible": 0}
    request = next(change for change in document["changes"] if change["side"] == "request")
    assert request["subject"] == "ImageSize" and request["kind"] == "enum-value-removed"
    assert request["breaks_clients"] is True and request["breaks_gateways"] is False
    assert "1792x1024" in request["before"] and "1792x1024" not in request["after"]
    main(["diff", str(SPEC), str(edited), "--format", "markdown"])
    out = capsys.readouterr().out
    assert '| **breaks clients** | `ImageSize`: enum value "1792x1024" removed | request field `size` |' in out


def test_two_commits_of_this_repository(capsys: pytest.CaptureFixture[str]) -> None:
    commits = subprocess.run(
        ["git", "log", "--format=%h", "--", "spec/openapi.yaml"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    if "accabc7" not in commits or "ed83937" not in commits:
        pytest.skip("not a clone with the spec's history")
    status = main(["diff", "git:ed83937:spec/openapi.yaml", "git:accabc7:spec/openapi.yaml"])
    out = capsys.readouterr().out
    assert status == 1
    assert "[breaks clients] InferenceSteps: maximum 1000 added" in out
    assert "Seed: maximum 9223372036854775807 added" in out


@pytest.mark.parametrize(
    ("old", "message"),
    [
        ("git:no-such-ref:spec/openapi.yaml", "git:no-such-ref:spec/openapi.yaml: invalid object name 'no-such-ref'."),
        ("git:HEAD", "git:HEAD: expected git:REF:PATH"),
        ("{missing}", "No such file or directory"),
        ("{not31}", "not a valid OpenAPI 3.1 document: /openapi: expected an OpenAPI 3.1.x document"),
        ("{garbage}", "YAML syntax error"),
        ("{dangling}", "ImageCountX"),
    ],
)
def test_an_unusable_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, message: str
) -> None:
    (tmp_path / "not31.yaml").write_text("openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n")
    (tmp_path / "garbage.yaml").write_text("openapi: [3.1\n")
    dangling = SPEC.read_text().replace("/schemas/ImageCount'", "/schemas/ImageCountX'")
    (tmp_path / "dangling.yaml").write_text(dangling)
    old = old.format(
        missing=tmp_path / "missing.yaml",
        not31=tmp_path / "not31.yaml",
        garbage=tmp_path / "garbage.yaml",
        dangling=tmp_path / "dangling.yaml",
    )
    assert main(["diff", old, str(SPEC)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("pixelpact diff: ")
    assert message in captured.err
    assert len(captured.err) < 400
