"""The committed generated/ is what the real spec generates, and it passes the project's own gates."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpact import generated
from pixelpact.generator import drift
from pixelpact.generator.build import generate
from pixelpact.generator.loader import DEFAULT_SPEC

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return generate(DEFAULT_SPEC)


def test_generated_is_fresh(rendered: dict[str, str]) -> None:
    result = drift.diff(rendered, GENERATED, label="generated")
    assert result.is_clean, (
        f"generated/ is stale; run `pixelpact generate` (or `python -m generator`)\n{result.report()}"
    )


def test_generation_is_deterministic(rendered: dict[str, str]) -> None:
    assert generate(DEFAULT_SPEC) == rendered


def test_output_has_no_volatile_data(rendered: dict[str, str]) -> None:
    for path, text in rendered.items():
        assert str(ROOT) not in text, f"{path} names a local path"
        assert not re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text), f"{path} carries a date and time"
        assert "datamodel-codegen" not in text, f"{path} carries dcg's banner (and with it, versions)"


def test_public_names_are_exported_sorted() -> None:
    tree = ast.parse((GENERATED / "__init__.py").read_text())
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert generated.__all__ == sorted(generated.__all__)
    assert set(generated.__all__) == imported
    assert all(hasattr(generated, name) for name in generated.__all__)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_generated_passes_mypy_strict() -> None:
    result = _run(sys.executable, "-m", "mypy", "--strict", "--no-incremental", ".typing/pixelpact/generated")
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_passes_ruff() -> None:
    ruff = str(Path(sys.executable).with_name("ruff"))
    check = _run(ruff, "check", "generated", "tests/generator/golden")
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = _run(ruff, "format", "--check", "generated", "tests/generator/golden")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
