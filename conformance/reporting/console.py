"""Terminal output: the live progress line while a run goes, and the requirement table at the end.

What a gateway wrote (error messages quoted in titles and evidence, curl lines of what it was sent back) is shown,
never acted on by the terminal: control characters (escape sequences, bells, carriage returns) are printed as
escapes, on one line.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import TextIO

from pixelpact.conformance.engine.engine import Event, GroupStarted, ObservationMade, RunFinished, RunStarted
from pixelpact.conformance.model import Finding, Report, Status, Verdict
from pixelpact.conformance.reporting.text import one_line

#: Seconds between two redraws of the progress line (redrawing on every observation would cost more than it shows).
REDRAW_EVERY = 0.1


class ProgressLine:
    """One status line on a terminal, redrawn in place: group, requests sent, checks, failures."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.group = ""
        self.requests = 0
        self.checks = 0
        self.failures = 0
        self._drawn = 0.0
        self._width = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            target = f"the built-in stub gateway ({event.target})" if event.builtin else event.target
            self._write(
                f"pixelpact check: {target}, {len(event.operations)} operation(s), groups {', '.join(event.groups)}, "
                f"seed {event.seed}",
                final=True,
            )
        elif isinstance(event, GroupStarted):
            self.group = event.name
            self._draw(force=True)
        elif isinstance(event, ObservationMade):
            self.requests = event.requests_sent
            if not event.observation.skipped:
                self.checks += 1
                self.failures += not event.observation.passed
            self._draw()
        elif isinstance(event, RunFinished):
            self._clear()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self._drawn < REDRAW_EVERY):
            return
        self._drawn = now
        failing = f", {self.failures} failing" if self.failures else ""
        self._write(f"  [{self.group}] {self.requests} requests, {self.checks} checks{failing}")

    def _write(self, text: str, final: bool = False) -> None:
        if final:
            if self.live:
                self._clear()
            self.stream.write(text + "\n")
        elif self.live:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        self.stream.flush()

    def _clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


#: Column order of the requirement table.
_COLUMNS = (Status.PASSED, Status.FAILED, Status.BLOCKED, Status.NOT_JUDGED)


def summary_rows(report: Report) -> list[tuple[str, str, int, int, int, int, int]]:
    """Per requirement: (id, severity, operations, passed, failed, blocked, not judged) counted in operations."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    severity: dict[str, str] = {}
    for result in report.results:
        row = rows[result.requirement.id]
        severity[result.requirement.id] = result.requirement.severity.value
        row[0] += 1
        row[1 + _COLUMNS.index(result.status)] += 1
    return [(rid, severity[rid], *counts) for rid, counts in rows.items()]  # type: ignore[misc]


def render(report: Report, *, color: bool = False) -> str:
    """The findings (one per root cause, with its reproduction), the requirement table, and the verdict line."""
    lines = findings_lines(report, color=color)
    rows = summary_rows(report)
    width = max([len("requirement"), *(len(row[0]) for row in rows)])
    origins = {r.requirement.id: r.requirement.origin.value if r.requirement.origin else "" for r in report.results}
    head = (
        f"{'requirement':<{width}}  {'severity':<8}  {'origin':<10}  {'ops':>3}  {'pass':>4}  {'fail':>4}  {'blkd':>4}"
        f"  {'n/j':>4}"
    )
    lines += [head, "-" * len(head)]
    causes = _finding_ids(report)
    known = {result.requirement.id for result in report.results if result.known is not None}
    for rid, severity, ops, passed, failing, blocked, unjudged in rows:
        if (failing or blocked) and rid in known and not _new_failure(report, rid):
            mark = _paint("known", "33", color) + f" {', '.join(causes.get(rid, []))}"
        elif failing:
            mark = _paint("FAIL", "31", color) + f" {', '.join(causes.get(rid, []))}"
        elif blocked:
            mark = _paint("blocked", "33", color) + f" {', '.join(causes.get(rid, []))}"
        elif unjudged == ops:
            mark = "not judged"
        else:
            mark = "ok"
        lines.append(
            f"{rid:<{width}}  {severity:<8}  {origins[rid]:<10}  {ops:>3}  {passed:>4}  {failing:>4}  {blocked:>4}"
            f"  {unjudged:>4}  {mark}"
        )
    known_failures = [result for result in report.results if result.known is not None]
    if known_failures:
        lines += ["", "Known deviations (baseline):"]
        lines += [f"- {r.requirement.id} on {r.operation_id}: {one_line(r.known or '')}" for r in known_failures]
    lines += summary_lines(report)
    for error in report.errors:
        lines.append(f"error: {one_line(error)}")
    lines += ["", verdict_line(report, color=color)]
    return "\n".join(lines)


def _new_failure(report: Report, requirement_id: str) -> bool:
    return any(
        r.requirement.id == requirement_id and r.status in (Status.FAILED, Status.BLOCKED) and r.known is None
        for r in report.results
    )


def verdict_line(report: Report, *, color: bool = False) -> str:
    """E.g. "PASS: 312 of 330 pairs judged: 312 passed, 0 failed; not judged: 18 not-applicable ... (exit 0)"."""
    verdict = _paint(report.verdict.value.upper(), "32" if report.verdict is Verdict.PASS else "31", color)
    known = sum(result.known is not None for result in report.results)
    if report.baseline is not None:
        verdict += f" ({known} known deviation{'s' if known != 1 else ''} in the baseline)"
    return (
        f"{verdict}: {report.coverage().line()} (requirement x operation); {report.duration:.1f}s, "
        f"{report.requests_sent} requests{_images(report)}, seed {report.seed}; exit {report.exit_status}"
    )


def _images(report: Report) -> str:
    """ ", 59 images asked (22.7 MP)": what the run asked providers to generate (pixelpact.conformance.wire.spend)."""
    images = report.spent.get("images")
    if images is None:
        return ""
    return f", {images} images asked ({report.spent.get('megapixels', 0.0):.1f} MP)"


def findings_lines(report: Report, *, color: bool = False) -> list[str]:
    """One block per finding: id and title, where it broke, what it explains, what was seen, how to reproduce."""
    if not report.findings:
        return []
    pairs = sum(len(finding.pairs) for finding in report.findings)
    lines = [f"Findings: {len(report.findings)} cause(s) explain {pairs} failed or blocked pair(s)", ""]
    for finding in report.findings:
        lines.append(f"{_paint(finding.id, '31', color)}  {one_line(finding.title)}")
        failed = len(finding.pairs) - finding.blocked
        where = f"; broke {_WHERE[finding.where]}" if finding.where in _WHERE else ""
        lines.append(f"    {failed} failed, {finding.blocked} blocked{where}: {_cut(_pairs(finding), 160)}")
        lines.append(f"    seen: {_cut(finding.evidence, 160)}")
        if finding.reproduction:
            # the answer's status only: what it said is the "seen" line, and the reports keep the body
            got = _answer(report, finding)
            lines.append(f"    reproduce: {_cut(finding.reproduction, 240)}" + (f"  -> {got}" if got else ""))
    return [*lines, ""]


_WHERE = {"gateway": "in the gateway", "provider": "at the provider", "on-the-way": "on the way to the provider"}


def _pairs(finding: Finding) -> str:
    """ "valid-request-accepted, image-array-accepted on createImageEdit, createImageVariation; ..."."""
    operations: dict[str, list[str]] = defaultdict(list)
    for rid, operation in finding.pairs:
        operations[rid].append(operation)
    requirements: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for rid, ops in operations.items():
        requirements[tuple(ops)].append(rid)
    return "; ".join(f"{', '.join(rids)} on {', '.join(ops)}" for ops, rids in requirements.items())


def _answer(report: Report, finding: Finding) -> str:
    """The status that answered the finding's reproduction ("500", "no response (ReadError)")."""
    for result in report.results:
        for failure in result.failures:
            exchange = failure.exchange
            if exchange is not None and exchange.curl == finding.reproduction:
                if exchange.status is not None:
                    return str(exchange.status)
                return f"no response ({(exchange.error or '').split(':')[0]})"
    return ""


def _finding_ids(report: Report) -> dict[str, list[str]]:
    """requirement id -> the findings that explain its failed or blocked pairs."""
    ids: dict[str, list[str]] = defaultdict(list)
    for finding in report.findings:
        for rid, _ in finding.pairs:
            if finding.id not in ids[rid]:
                ids[rid].append(finding.id)
    return ids


def _cut(text: str, limit: int) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[:limit] + " ...(cut; see the reports)"


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def summary_lines(report: Report) -> list[str]:
    """How many failures the baseline knew (pixelpact.conformance.ci.baseline), and its fixed entries to remove."""
    outcome = report.baseline
    if outcome is None:
        return []
    known = [r for r in report.results if r.known is not None]
    new = [r for r in report.results if r.status in (Status.FAILED, Status.BLOCKED) and r.known is None]
    lines = [f"baseline {outcome.path}: {len(new)} new, {len(known)} known, {len(outcome.fixed)} fixed"]
    for item in outcome.fixed:
        what = f"finding {item.finding}" if item.requirement == "*" else item.requirement
        what += f" on {item.operation}" if item.operation != "*" else ""
        action = "fails the run until it is removed" if outcome.strict else "remove it from the baseline"
        lines.append(f"  fixed: {what} ({action}); it said: {item.why}")
    return lines
