"""`pixelpact compare A.json B.json`: two real runs (the stub, and the stub with its model failing at the provider),
compared both ways: what B breaks that A kept, what it fixes, what stays the same, per pair and per finding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.cli import main
from pixelpact.conformance.reporting.machine import to_json
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import stub_server

SELECTION = {"operations": ("createImage",), "groups": ("valid", "invalid"), "seed": 3}


def report_of(config: StubConfig, path: Path, **selection: object) -> Path:
    with stub_server(config) as url:
        report = check(CheckOptions(base_url=url, **{**SELECTION, **selection}))  # type: ignore[arg-type]
    path.write_text(to_json(report))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("compare")
    good = report_of(StubConfig(), folder / "good.json")
    # every valid request fails at the provider: the valid group's pairs break, the invalid ones can no longer be
    # attributed (their control was not accepted)
    broken = report_of(StubConfig(fail_models=frozenset({"openai/dall-e-3", "dall-e-3"})), folder / "broken.json")
    yield good, broken


def test_a_migration_that_breaks_what_a_kept_exits_1_and_names_the_pairs(
    reports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, broken = reports
    assert main(["compare", str(good), str(broken)]) == 1
    out = capsys.readouterr().out
    broken_section = out.split("Broken in B (A passed, B fails): ")[1].split("\n\n")[0]
    assert int(broken_section.split(" ")[0]) > 0
    assert "valid-request-accepted on createImage: A passed; B failed (F-" in broken_section
    assert "Fixed in B (A failed, B passes): 0 pair(s)" in out
    assert "[broken in B] F-" in out  # B's finding, which A does not have
    assert out.rstrip().endswith("B breaks pairs A kept; exit 1")


def test_the_other_way_round_it_fixes_them_and_exits_0(
    reports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, broken = reports
    assert main(["compare", str(broken), str(good), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"## pixelpact compare: {broken.name} → {good.name} ✅\n")
    assert "### Broken in B (A passed, B fails): 0 pair(s)\n\nNone." in out
    fixed = out.split("### Fixed in B (A failed, B passes): ")[1].split("###")[0]
    assert "| `valid-request-accepted` | createImage | failed (F-" in fixed and "| passed |" in fixed
    assert "| fixed in B |" in out.split("### Findings")[1]


def test_a_report_compared_with_itself_is_the_same_everywhere(
    reports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, broken = reports
    assert main(["compare", str(broken), str(broken)]) == 0
    out = capsys.readouterr().out
    assert "0 broken in B, 0 fixed in B" in out
    assert "[same: fails in both] F-" in out


def test_reports_of_different_seeds_or_selections_are_refused_in_one_line(
    reports: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, _ = reports
    other_seed = report_of(StubConfig(), tmp_path / "seed.json", groups=("valid",), seed=4)
    assert main(["compare", str(good), str(other_seed)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    (tmp_path / "bad.json").write_text("{")
    assert main(["compare", str(good), str(tmp_path / "bad.json")]) == 2
    assert "bad.json" in capsys.readouterr().err
