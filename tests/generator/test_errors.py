"""Broken specs: `pixelpact generate` exits 2 and prints every problem once, with where it is, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpact.generator import cli

ERRORS = Path(__file__).parent / "golden" / "errors"


@pytest.mark.parametrize("case", sorted(p.stem for p in ERRORS.glob("*.yaml")))
def test_error_output(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], update_golden: bool) -> None:
    spec = ERRORS / f"{case}.yaml"
    status = cli.main(["--spec", str(spec), "--out", str(tmp_path / "out"), "--check"])
    captured = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not (tmp_path / "out").exists()
    output = captured.err.replace(str(spec), "<spec>")
    expected = ERRORS / f"{case}.txt"
    if update_golden:
        expected.write_text(output, encoding="utf-8")
        pytest.skip(f"{case}: expected output rewritten")
    assert output == expected.read_text(encoding="utf-8")


def test_internal_failure_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(api: object) -> dict[str, str]:
        raise KeyError("boom")

    monkeypatch.setattr("pixelpact.generator.build.render", broken)
    spec = Path(__file__).parent / "golden" / "cases" / "json_body" / "openapi.yaml"
    assert cli.main(["--spec", str(spec), "--out", str(tmp_path), "--check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "generation failed: KeyError: 'boom'" in err
    assert "Traceback" not in err
