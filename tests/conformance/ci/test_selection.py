"""--requirement / --exclude-requirement and the catalogue (`pixelpact requirements`, conformance/REQUIREMENTS.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pixelpact.conformance.api import CheckError
from pixelpact.conformance.cli import main
from pixelpact.conformance.cli.requirements import PAGE, to_markdown
from pixelpact.conformance.suite import catalogue
from tests.conformance.conftest import run

ROOT = Path(__file__).resolve().parents[3]


def test_a_glob_selects_requirements_and_only_their_groups_run(stub_url: str) -> None:
    everything = run(stub_url, operations=("createImage",), groups=("streaming", "invalid"))
    streams = run(stub_url, operations=("createImage",), groups=("streaming", "invalid"), requirements=("stream-*",))

    ids = {result.requirement.id for result in streams.results}
    assert ids and all(rid.startswith("stream-") for rid in ids)
    assert streams.groups == ("streaming",)
    assert streams.requests_sent < everything.requests_sent
    assert streams.verdict == "pass"


def test_an_excluded_failure_no_longer_fails_the_run(one_deviation_url: str) -> None:
    options = {"operations": ("createImage",), "groups": ("invalid",)}
    failing = run(one_deviation_url, **options)
    assert ("n-out-of-range-rejected", "createImage") in {(r.requirement.id, r.operation_id) for r in failing.failed}

    excluded = run(one_deviation_url, **options, exclude_requirements=("n-out-of-*",))

    assert excluded.verdict == "pass"
    assert "n-out-of-range-rejected" not in {result.requirement.id for result in excluded.results}
    assert {result.requirement.id for result in excluded.results} == (
        {result.requirement.id for result in failing.results} - {"n-out-of-range-rejected"}
    )


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"requirements": ("strem-*",)}, "no requirement matches 'strem-*'"),
        ({"exclude_requirements": ("nope",)}, "no requirement matches 'nope'"),
        ({"exclude_requirements": ("*",)}, "leave no requirement to judge"),
    ],
)
def test_a_selection_that_matches_nothing_is_refused(stub_url: str, options: dict[str, object], reason: str) -> None:
    with pytest.raises(CheckError, match=re.escape(reason)):
        run(stub_url, **options)


def test_cli_requirement_option_is_one_line_on_a_typo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--requirement", "stream-contnet-type"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["pixelpact check: no requirement matches 'stream-contnet-type'; `pixelpact requirements` lists them"]


def test_requirements_lists_the_whole_catalogue_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)

    assert [entry["id"] for entry in listed] == [requirement.id for requirement in catalogue()]
    assert len({entry["id"] for entry in listed}) == len(listed)
    groups = {entry["group"] for entry in listed}
    assert {"valid", "invalid", "streaming", "schemathesis", "properties", "forwarding"} <= groups
    assert set(listed[0]) == {"id", "group", "severity", "origin", "title", "source"}


def test_requirements_table_and_group_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--group", "auth"]) == 0
    out = capsys.readouterr().out
    assert "auth-missing-rejected" in out and "source: " in out
    assert "stream-content-type" not in out


def test_the_catalogue_page_is_fresh() -> None:
    page = ROOT / PAGE
    assert page.read_text(encoding="utf-8") == to_markdown(catalogue()), (
        f"{PAGE} is stale: run `pixelpact requirements --markdown > {PAGE}`"
    )
