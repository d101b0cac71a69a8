"""The Markdown summary (--markdown-report): what a CI job summary or a pull-request comment shows.

The verdict first, then the failures a reviewer must act on (new ones), the known deviations of the baseline and
what was fixed, then the coverage, and every requirement folded away at the end. Failures are one row per
requirement with the operations it failed on; each links to its evidence in the HTML report when one was written.

A gateway's words are shown, never rendered: every text that comes from the gateway or the provider, or may quote it
(finding titles, failure messages, errors, baseline notes, the target), is set as inline code (`code`), in which
Markdown renders no link, image, emphasis or HTML; newlines are flattened and control characters written as escapes
(pixelpact.conformance.reporting.text.as_code), a backtick in the text gets a longer fence, and in table cells
pipes are escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pixelpact.conformance.model import Report, RequirementResult, Status, Verdict
from pixelpact.conformance.reporting.html import anchor
from pixelpact.conformance.reporting.text import as_code

#: A cell of the failure tables keeps this much of a message (the HTML and JSON reports have all of it).
MESSAGE_CHARS = 240
_MARK = {
    Verdict.PASS: "✅",
    Verdict.FAIL: "❌",
    Verdict.INCOMPLETE: "⚠️",
    Verdict.INTERRUPTED: "⚠️",
    Verdict.ERROR: "⛔",
}
_FAILING = (Status.FAILED, Status.BLOCKED)


def to_markdown(report: Report, html: str | None = None) -> str:
    """The summary; `html` is the HTML report's path or URL as seen from where the Markdown is read."""
    new = [r for r in report.results if r.status in _FAILING and r.known is None]
    known = [r for r in report.results if r.known is not None]
    lines = [f"## pixelpact check: {_MARK[report.verdict]} {report.verdict.value.upper()} (exit {report.exit_status})"]
    lines += ["", _facts(report, new, known)]
    if html is not None:
        lines += ["", f"Evidence (requests as curl lines, responses, images): [HTML report]({html})"]
    for error in report.errors:
        lines += ["", f"> error: {as_code(error)}"]
    lines += _findings(report, html)
    lines += _failures(f"New failures ({len(new)})", new, report, html, lambda r: r.message or r.status.value)
    lines += _failures(
        f"Known deviations ({len(known)}, in the baseline)", known, report, html, lambda r: r.known or ""
    )
    lines += _fixed(report)
    lines += _coverage(report)
    lines += _every_requirement(report, html)
    return "\n".join(lines) + "\n"


def _findings(report: Report, html: str | None) -> list[str]:
    """The root causes (the report's findings, when it has them): new ones, then those the baseline knows."""
    findings = report.findings
    by_pair = {(r.requirement.id, r.operation_id): r for r in report.results}
    new, known = [], []
    for finding in findings:
        results = [by_pair[pair] for pair in finding.pairs if pair in by_pair]
        if results and all(r.known is not None for r in results):
            known.append((finding, results))
        elif results:
            new.append((finding, results))
    lines: list[str] = []
    for title, chosen in (
        (f"New findings ({len(new)})", new),
        (f"Known findings ({len(known)}, in the baseline)", known),
    ):
        if not chosen:
            continue
        lines += ["", f"### {title}", ""]
        for finding, results in chosen:
            pairs = ", ".join(f"`{r.requirement.id}` on `{r.operation_id}`" for r in results[:6])
            more = f" and {len(results) - 6} more" if len(results) > 6 else ""
            why = f" Known: {as_code(results[0].known or '', MESSAGE_CHARS)}" if results[0].known else ""
            name = _link(f"**{finding.id}**", html, finding.id)
            lines.append(f"- {name}: {as_code(finding.title, MESSAGE_CHARS)} ({pairs}{more}).{why}")
    return lines


def _facts(report: Report, new: list[RequirementResult], known: list[RequirementResult]) -> str:
    text = (
        f"{len(new)} new failure{'' if len(new) == 1 else 's'}, {len(known)} known; {report.coverage().line()} "
        f"(requirement x operation). Target {as_code(report.target or 'none')}, seed `{report.seed}`, "
        f"{report.requests_sent} requests in {report.duration:.1f} s."
    )
    if report.baseline is not None:
        text += f" Baseline `{report.baseline.path}`."
    return text


def _failures(
    title: str,
    results: list[RequirementResult],
    report: Report,
    html: str | None,
    say: Callable[[RequirementResult], str],
) -> list[str]:
    if not results:
        return []
    lines = ["", f"### {title}", "", "| requirement | severity | operations | what |", "|---|---|---|---|"]
    for requirement_id, group in _by_requirement(results).items():
        first = group[0]
        # the HTML report shows the evidence per finding: an operation links to the finding that explains it
        operations = ", ".join(_link(f"`{r.operation_id}`", html, _finding_id(report, r)) for r in group)
        blocked = " (blocked)" if all(r.status is Status.BLOCKED for r in group) else ""
        lines.append(
            f"| {_link(f'`{requirement_id}`', html, anchor(requirement_id))}{blocked} "
            f"| {first.requirement.severity.value} | {operations} | {as_code(say(first), MESSAGE_CHARS, cell=True)} |"
        )
    return lines


def _fixed(report: Report) -> list[str]:
    outcome = report.baseline
    if outcome is None or not outcome.fixed:
        return []
    verb = "fail the run until they are removed (--strict-baseline)" if outcome.strict else "can leave the baseline"
    lines = ["", f"### Fixed ({len(outcome.fixed)}): these entries of the baseline no longer fail and {verb}", ""]
    for item in outcome.fixed:
        what = f"finding `{item.finding}`" if item.requirement == "*" else f"`{item.requirement}`"
        what += f" on `{item.operation}`" if item.operation != "*" else ""
        lines.append(f"- {what}: {as_code(item.why, MESSAGE_CHARS)}")
    return lines


def _coverage(report: Report) -> list[str]:
    coverage = report.coverage()
    known = sum(result.known is not None for result in report.results)
    rows = [("passed", coverage.passed), ("failed or blocked, new", coverage.failed + coverage.blocked - known)]
    rows += [("failed or blocked, known", known)]
    rows += [(f"not judged: {reason.value}", count) for reason, count in coverage.not_judged.items()]
    lines = ["", "### Coverage", "", "| pairs | count |", "|---|---:|"]
    lines += [f"| {name} | {count} |" for name, count in rows if count or name == "passed"]
    lines.append(f"| **total** | **{coverage.total}** |")
    return lines


def _every_requirement(report: Report, html: str | None) -> list[str]:
    lines = ["", "<details><summary>Every requirement</summary>", ""]
    lines += [
        "| requirement | severity | passed | failed | blocked | known | not judged |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for requirement_id, group in _by_requirement(report.results).items():
        new = [r for r in group if r.known is None]
        counts = [sum(r.status is status for r in new) for status in (Status.PASSED, Status.FAILED, Status.BLOCKED)]
        counts += [len(group) - len(new), sum(r.status is Status.NOT_JUDGED for r in group)]
        name = _link(f"`{requirement_id}`", html, anchor(requirement_id))
        lines.append(f"| {name} | {group[0].requirement.severity.value} | " + " | ".join(map(str, counts)) + " |")
    lines += ["", "</details>"]
    return lines


def _by_requirement(results: Iterable[RequirementResult]) -> dict[str, list[RequirementResult]]:
    grouped: dict[str, list[RequirementResult]] = {}
    for result in results:
        grouped.setdefault(result.requirement.id, []).append(result)
    return grouped


def _finding_id(report: Report, result: RequirementResult) -> str | None:
    finding = report.finding_of(result)
    return finding.id if finding is not None else None


def _link(text: str, html: str | None, fragment: str | None) -> str:
    return f"[{text}]({html}#{fragment})" if html is not None and fragment is not None else text
