"""Golden cases: small feature-focused specs, each with its committed expected tree (`pytest --update-golden`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpact.generator import drift
from pixelpact.generator.build import generate

CASES = Path(__file__).parent / "golden" / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "openapi.yaml").is_file()))
def test_golden(case: str, update_golden: bool) -> None:
    rendered = generate(CASES / case / "openapi.yaml")
    expected = CASES / case / "expected"
    if update_golden:
        changes = drift.write(rendered, expected)
        pytest.skip(f"{case}: expected tree rewritten ({len(changes.changed) + len(changes.missing)} file(s))")
    result = drift.diff(rendered, expected, label=f"golden/cases/{case}/expected")
    assert result.is_clean, f"refresh with `pytest tests/generator --update-golden` if intended\n{result.report()}"
