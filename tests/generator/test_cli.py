"""`pixelpact generate` and `--check`: exit codes, the drift report, and writing only what changed."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpact.conformance.cli import main as pixelpact
from pixelpact.generator import build, cache, cli

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).parent / "golden" / "cases" / "multipart_files" / "openapi.yaml"


def generate(out: Path, *extra: str) -> int:
    return cli.main(["--spec", str(SPEC), "--out", str(out), *extra])


def test_check_reports_missing_changed_and_extra(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pkg"
    assert generate(out, "--check") == 1
    assert "MISSING: models.py" in capsys.readouterr().out
    assert not out.exists()

    assert generate(out) == 0
    assert generate(out, "--check") == 0
    capsys.readouterr()

    models = out / "models.py"
    models.write_text(models.read_text().replace("le=10", "le=11"))
    (out / "stale.py").write_text("")
    (out / "__pycache__").mkdir()
    (out / "__pycache__" / "models.cpython-311.pyc").write_bytes(b"")
    assert generate(out, "--check") == 1
    report = capsys.readouterr().out
    assert "-    n: Annotated[int, Field(ge=1, le=11)] = 1" in report
    assert "+    n: Annotated[int, Field(ge=1, le=10)] = 1" in report
    assert "EXTRA: stale.py" in report
    assert "__pycache__" not in report


def test_generate_rewrites_only_changed_files_and_removes_extra_ones(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    assert generate(out) == 0
    client = out / "client.py"
    os.utime(client, (1_000_000, 1_000_000))
    (out / "models.py").write_text("# edited by hand\n")
    (out / "stale.py").write_text("")
    assert generate(out) == 0
    assert client.stat().st_mtime == 1_000_000, "an unchanged file was rewritten"
    assert "edited by hand" not in (out / "models.py").read_text()
    assert not (out / "stale.py").exists()
    assert generate(out, "--check") == 0


def test_pixelpact_generate_check_on_the_real_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert pixelpact(["generate", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_python_dash_m_generator(tmp_path: Path) -> None:
    shutil.copytree(Path(__file__).parent / "golden" / "cases" / "multipart_files" / "expected", tmp_path / "pkg")
    command = [sys.executable, "-m", "generator", "--check", "--spec", str(SPEC), "--out", str(tmp_path / "pkg")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cache_holds_what_the_pipeline_generates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXELPACT_CACHE_DIR", str(tmp_path / "cache"))
    spec = tmp_path / "openapi.yaml"
    spec.write_bytes(SPEC.read_bytes())
    assert cache.load(spec)[1] is None
    assert cli.main(["--spec", str(spec), "--out", str(tmp_path / "pkg")]) == 0
    assert cache.load(spec)[1] == build.generate(spec)
    spec.write_bytes(SPEC.read_bytes() + b"# an edit\n")
    assert cache.load(spec)[1] is None, "a changed spec must miss the cache"


def test_broken_spec_is_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXELPACT_CACHE_DIR", str(tmp_path / "cache"))
    spec = Path(__file__).parent / "golden" / "errors" / "no_request_body.yaml"
    assert cli.main(["--spec", str(spec), "--out", str(tmp_path / "pkg")]) == 2
    assert not (tmp_path / "cache").exists()


def test_without_the_generate_extra_one_line_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    find_spec = importlib.util.find_spec
    absent = {"datamodel_code_generator", "ruff"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in absent else find_spec(name, *a))
    assert generate(tmp_path / "pkg", "--no-cache") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "datamodel-code-generator and ruff" in err
    assert "pip install 'pixelpact[generate]'" in err
    assert not (tmp_path / "pkg").exists()
