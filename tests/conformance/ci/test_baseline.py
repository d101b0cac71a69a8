"""--baseline: known deviations are reported without failing, a new one fails, a fixed one is reported (and fails
under --strict-baseline); --update-baseline writes the file; JUnit, JSON and pytest show known failures as expected."""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from pixelpact.conformance.ci import baseline
from pixelpact.conformance.cli import main
from pixelpact.conformance.model import Origin, Report, Requirement, RequirementResult, Severity, Status, Verdict
from tests.conformance.test_pytest_plugin import pytest_in

#: The invalid group on one operation: where both deviations of the broken stubs show, in about a second.
QUICK = ["--group", "invalid", "--operation", "createImage", "--seed", "3"]


def check(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str]:
    status = main(["check", "--base-url", url, *QUICK, *args])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_known_deviations_pass_a_new_one_fails_and_update_writes_them(
    one_deviation_url: str, two_deviations_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "baseline.toml"

    status, out = check(capsys, one_deviation_url, "--baseline", str(file), "--update-baseline")
    assert status == 1, out  # judged against the file as it was: empty
    entries = tomllib.loads(file.read_text())["deviation"]
    assert [(e["requirement"], e["operations"]) for e in entries] == [("n-out-of-range-rejected", ["createImage"])]
    assert entries[0]["why"].startswith("TODO say why")

    status, out = check(capsys, one_deviation_url, "--baseline", str(file))
    assert status == 0, out
    assert "n-out-of-range-rejected" in out and "known" in out
    assert f"baseline {file}: 0 new, 1 known, 0 fixed" in out
    assert "PASS (1 known deviation in the baseline)" in out

    status, out = check(capsys, two_deviations_url, "--baseline", str(file))
    assert status == 1, out
    rows = {line.split()[0]: line.split()[-2] for line in out.splitlines() if line.startswith("n-")}
    assert rows == {"n-out-of-range-rejected": "known", "n-not-integer-rejected": "FAIL"}  # the table's marks
    assert "baseline " + str(file) + ": 1 new, 1 known, 0 fixed" in out


def test_a_fixed_deviation_is_reported_and_strict_fails_until_removed(
    stub_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "baseline.toml"
    file.write_text(
        '[[deviation]]\nrequirement = "n-out-of-range-rejected"\noperations = ["createImage", "createImageEdit"]\n'
        'why = "accepted n=11 (ticket 12)"\n'
    )

    status, out = check(capsys, stub_url, "--baseline", str(file))
    assert status == 0, out
    assert "fixed: n-out-of-range-rejected on createImage (remove it from the baseline); it said: accepted n=11" in out
    assert "createImageEdit" not in out.split("fixed:")[1]  # not run here: neither seen nor fixed

    status, out = check(capsys, stub_url, "--baseline", str(file), "--strict-baseline")
    assert status == 1, out
    assert "fails the run until it is removed" in out

    check(capsys, stub_url, "--baseline", str(file), "--update-baseline")
    entries = tomllib.loads(file.read_text())["deviation"]
    assert entries == [
        {
            "requirement": "n-out-of-range-rejected",
            "operations": ["createImageEdit"],
            "why": "accepted n=11 (ticket 12)",
        }
    ]
    status, out = check(capsys, stub_url, "--baseline", str(file), "--strict-baseline")
    assert status == 0, out


def test_globs_and_the_reports(two_deviations_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "baseline.toml"
    file.write_text('[[deviation]]\nrequirement = "n-*"\noperations = ["create*"]\nwhy = "n is not validated"\n')

    status, out = check(
        capsys,
        two_deviations_url,
        "--baseline",
        str(file),
        "--junit",
        str(tmp_path / "j.xml"),
        "--json-report",
        str(tmp_path / "r.json"),
    )

    assert status == 0, out
    document = json.loads((tmp_path / "r.json").read_text())
    known = {(r["id"], r["operation"]) for r in document["requirements"] if r["known"]}
    assert known == {("n-out-of-range-rejected", "createImage"), ("n-not-integer-rejected", "createImage")}
    assert document["verdict"] == "pass" and document["baseline"]["known"] == 2
    cases = {case.get("name"): case for case in ET.parse(tmp_path / "j.xml").iter("testcase")}
    skipped = cases["n-out-of-range-rejected[createImage]"].find("skipped")
    assert skipped is not None and "known deviation (failed): n is not validated" in skipped.get("message", "")
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "0"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[deviation]]\nrequirement = "x"\n', "{file}: deviation 1: needs a why"),
        ('[[deviation]]\nrequirement = "x"\nwhy = "y"\nop = ["a"]\n', "{file}: deviation 1: unknown key 'op'"),
        ('[[deviation]]\nwhy = "y"\n', "{file}: deviation 1: needs a requirement (id or glob) or a finding"),
        ('[[deviation]]\nrequirement = "x"\nwhy = "y"\noperations = []\n', "{file}: deviation 1: operations must"),
        ("deviations = 1\n", "{file}: unknown key 'deviations'"),
    ],
)
def test_a_bad_baseline_is_one_line(
    stub_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, error: str
) -> None:
    file = tmp_path / "baseline.toml"
    file.write_text(text)

    status, out = check(capsys, stub_url, "--baseline", str(file))

    assert status == 2
    assert out.strip().splitlines() == [out.strip()] and f"pixelpact check: {error.format(file=file)}" in out


def test_a_missing_baseline_is_an_error_unless_updating(
    stub_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = check(capsys, stub_url, "--baseline", str(tmp_path / "nope.toml"))
    assert status == 2 and "no such file (--update-baseline creates it)" in out
    status, out = check(capsys, stub_url, "--strict-baseline")
    assert status == 2 and "need --baseline FILE" in out
    status, out = check(capsys, stub_url, "--baseline", "b.toml", "--update-baseline", "--shard", "1/2")
    assert status == 2 and "--update-baseline needs the whole run, not a shard" in out


def _result(requirement_id: str, operation: str, status: Status) -> RequirementResult:
    requirement = Requirement(requirement_id, "t", "s", Severity.MAJOR, "invalid", Origin.CONVENTION)
    return RequirementResult(requirement, operation, status=status, passed=status is Status.PASSED)


def test_entries_keyed_by_finding_match_the_findings_pairs(tmp_path: Path) -> None:
    """Findings (stable ids over clustered pairs) take precedence when the report carries them."""
    results = [
        _result("n-out-of-range-rejected", "createImage", Status.FAILED),
        _result("error-body-shape", "createImage", Status.FAILED),
        _result("response-schema", "createImage", Status.PASSED),
    ]
    report = Report(Verdict.FAIL, results, 10, 1.0)
    report.findings = [  # type: ignore[attr-defined]  # the shape the findings report gives: an id and its pairs
        SimpleNamespace(id="accepts-n-out-of-range", pairs=[("n-out-of-range-rejected", "createImage")]),
        SimpleNamespace(id="fastapi-422", pairs=[("error-body-shape", "createImage")]),
    ]
    known = baseline.Baseline(
        tmp_path / "b.toml",
        [
            baseline.Entry("n unchecked", finding="accepts-n-out-of-range"),
            baseline.Entry("other finding", requirement="error-body-shape", finding="something-else"),
            baseline.Entry("gone", finding="a-fixed-finding"),
        ],
    )

    baseline.apply(report, known)

    assert [r.known for r in results] == ["n unchecked", None, None]
    assert report.verdict is Verdict.FAIL  # error-body-shape's finding is not the one its entry names
    assert report.baseline is not None and [f.finding for f in report.baseline.fixed] == ["a-fixed-finding"]
    text = baseline.dump(baseline.updated(known, report))
    assert 'finding = "fastapi-422"' in text and "a-fixed-finding" not in text
    assert tomllib.loads(text)["deviation"][0] == {"finding": "accepts-n-out-of-range", "why": "n unchecked"}


def test_dump_round_trips_awkward_text(tmp_path: Path) -> None:
    entry = baseline.Entry('says "no"\\ with\ttabs\nand lines \x01', requirement="st-*", operations=["a", "b*"])
    file = tmp_path / "b.toml"
    baseline.write(baseline.Baseline(file, [entry]))

    assert baseline.load(file).entries == [entry]


def test_the_pytest_plugin_xfails_known_deviations(one_deviation_url: str, tmp_path: Path) -> None:
    (tmp_path / "baseline.toml").write_text(
        '[[deviation]]\nrequirement = "n-out-of-range-rejected"\nwhy = "accepted: ticket 12"\n'
    )
    args = [
        "--pixelpact-url",
        one_deviation_url,
        "--pixelpact-group",
        "invalid",
        "--pixelpact-operation",
        "createImage",
    ]

    done = pytest_in(tmp_path, *args, "--pixelpact-baseline", "baseline.toml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "XFAIL pixelpact::n-out-of-range-rejected[createImage]" in done.stdout
    assert "accepted: ticket 12" in done.stdout
