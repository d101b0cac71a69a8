"""--markdown-report: the verdict, new failures before known ones, what was fixed, the coverage, and links that land
on the HTML report's evidence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pixelpact.conformance.cli import main

QUICK = ["--group", "invalid", "--operation", "createImage", "--operation", "createImageEdit", "--seed", "3"]


def summary(url: str, tmp_path: Path, baseline: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    (tmp_path / "baseline.toml").write_text(baseline)
    md, html = tmp_path / "summary" / "pr.md", tmp_path / "html" / "report.html"
    reports = ["--markdown-report", str(md), "--html-report", str(html)]
    status = main(["check", "--base-url", url, *QUICK, "--baseline", str(tmp_path / "baseline.toml"), *reports])
    capsys.readouterr()
    return status, md.read_text(), html.read_text()


def test_new_failures_then_known_then_fixed_with_links_into_the_html(
    two_deviations_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = (
        '[[deviation]]\nrequirement = "n-out-of-range-rejected"\nwhy = "accepted: the provider | clamps n"\n\n'
        '[[deviation]]\nrequirement = "unknown-enum-rejected"\noperations = ["createImage"]\nwhy = "was ticket 7"\n'
    )

    status, text, html = summary(two_deviations_url, tmp_path, baseline, capsys)

    assert status == 1
    lines = text.splitlines()
    assert lines[0] == "## pixelpact check: ❌ FAIL (exit 1)"
    assert lines[2].startswith("2 new failures, 2 known; ")
    findings = text.index("### New findings (1)")  # both n deviations have one cause; one of them is new
    assert "[**F-accepted-invalid**](../html/report.html#F-accepted-invalid)" in text[findings:]
    new, known, fixed = (
        text.index(heading) for heading in ("### New failures (2)", "### Known deviations (2", "### Fixed (1)")
    )
    assert new < known < fixed < text.index("### Coverage")
    new_rows = text[new:known]
    assert "[`n-not-integer-rejected`](../html/report.html#req-n-not-integer-rejected)" in new_rows
    assert "[`createImage`](../html/report.html#F-accepted-invalid)" in new_rows  # the finding that explains it
    assert "n-out-of-range" not in new_rows
    assert "accepted: the provider \\| clamps n" in text[known:fixed]
    assert "Known deviation, in the baseline: accepted: the provider | clamps n" in html
    assert "- `unknown-enum-rejected` on `createImage`: `was ticket 7`" in text[fixed:]
    assert "| failed or blocked, known | 2 |" in text
    # every link lands on an element of the HTML report
    fragments = set(re.findall(r"\(\.\./html/report\.html#([^)]+)\)", text))
    assert "F-accepted-invalid" in fragments
    assert all(f"id='{fragment}'" in html for fragment in fragments), fragments - set(re.findall(r"id='([^']+)'", html))
    # tables stay tables: every row has as many unescaped pipes as its header
    for block in re.findall(r"(\| requirement \|.*?)\n\n", text, flags=re.S):
        rows = block.splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, rows


def test_a_pass_says_so_in_its_first_line(stub_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, text, _ = summary(stub_url, tmp_path, "", capsys)

    assert status == 0
    assert text.startswith("## pixelpact check: ✅ PASS (exit 0)\n\n0 new failures, 0 known; ")
    assert "### New failures" not in text and "### Known" not in text


def test_findings_lead_new_then_known() -> None:
    """When the report carries findings (one per root cause), the summary lists them before the failure tables."""
    from types import SimpleNamespace

    from pixelpact.conformance.model import Origin, Report, Requirement, RequirementResult, Severity, Status, Verdict
    from pixelpact.conformance.reporting.markdown import to_markdown

    def result(rid: str, known: str | None = None) -> RequirementResult:
        requirement = Requirement(rid, "t", "s", Severity.MAJOR, "valid", Origin.CONVENTION)
        return RequirementResult(requirement, "createImage", status=Status.FAILED, failed=1, message="m", known=known)

    report = Report(Verdict.FAIL, [result("a"), result("b", known="ticket 9")], 3, 1.0)
    report.findings = [  # type: ignore[list-item]  # stand-ins with the attributes the summary reads
        SimpleNamespace(id="F-known", title="b is off", pairs=(("b", "createImage"),)),
        SimpleNamespace(id="F-new", title="a | breaks", pairs=(("a", "createImage"),)),
    ]

    text = to_markdown(report, html="r.html")

    new, known = text.index("### New findings (1)"), text.index("### Known findings (1, in the baseline)")
    assert new < known < text.index("### New failures")
    # a title may quote the gateway: code, whose pipe needs no escape outside a table
    assert "- [**F-new**](r.html#F-new): `a | breaks` (`a` on `createImage`)." in text[new:known]
    assert "- [**F-known**](r.html#F-known): `b is off`" in text[known:] and "Known: `ticket 9`" in text[known:]
