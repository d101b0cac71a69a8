"""`pixelpact merge-reports`: the JSON reports of the shards of one run (--shard K/N) folded into one report.

    pixelpact merge-reports shard-*/report.json --junit junit.xml --markdown-report summary.md

A pair judged in several shards (a group may report on another group's requirement) is folded as the engine folds
observations: failed over blocked over passed over not judged. The merged verdict follows from the merged results
(`verdict_of`, or the baseline's verdict when the shards ran with one, or `--baseline` re-judges them). Every shard
of the run must be there exactly once: a missing shard would turn an unjudged part of the run into a silent pass.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pixelpact.conformance.ci import baseline
from pixelpact.conformance.model import (
    BaselineOutcome,
    Exchange,
    Finding,
    Fixed,
    Observation,
    Origin,
    Report,
    Requirement,
    RequirementResult,
    Seen,
    Severity,
    Status,
    Unjudged,
    Verdict,
    fold,
    verdict_of,
)
from pixelpact.conformance.suite import catalogue


class MergeError(Exception):
    """The reports cannot be merged; one line naming the report."""


def read(path: Path) -> Report:
    """A JSON report (`--json-report`) as a Report (images are not in JSON, so the merged HTML has no thumbnails)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"{path}: cannot read it: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MergeError(f"{path}: not a JSON report: {exc}") from None
    try:
        return from_json(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise MergeError(f"{path}: not a pixelpact JSON report ({type(exc).__name__}: {exc})") from None


def from_json(document: dict[str, Any]) -> Report:
    known = {requirement.id: requirement for requirement in catalogue()}
    results = [_result(entry, known) for entry in document["requirements"]]
    report = Report(
        verdict=Verdict(document["verdict"]),
        results=results,
        requests_sent=int(document["requests_sent"]),
        duration=float(document["duration"]),
        target=document.get("target", ""),
        seed=int(document.get("seed", 0)),
        operations=tuple(document.get("operations", ())),
        groups=tuple(document.get("groups", ())),
        errors=list(document.get("errors", [])),
        interrupted=bool(document.get("interrupted", False)),
        shard=document.get("shard", "") or "",
    )
    report.findings = [
        Finding(
            id=item["id"],
            title=item.get("title", ""),
            pairs=tuple((pair["id"], pair["operation"]) for pair in item.get("pairs", [])),
            evidence=item.get("evidence", ""),
            reproduction=item.get("reproduction", ""),
            where=item.get("where"),
            blocked=int(item.get("blocked", 0)),
        )
        for item in document.get("findings", [])
    ]
    outcome = document.get("baseline")
    if outcome is not None:
        fixed = [
            Fixed(item["requirement"], item["operation"], item["why"], item.get("finding")) for item in outcome["fixed"]
        ]
        report.baseline = BaselineOutcome(outcome["path"], bool(outcome.get("strict")), fixed)
    return report


def _result(entry: dict[str, Any], known: dict[str, Requirement]) -> RequirementResult:
    requirement = known.get(entry["id"]) or Requirement(
        id=entry["id"],
        title=entry.get("title", ""),
        source=entry.get("source", ""),
        severity=Severity(entry.get("severity", "major")),
        group=entry.get("group", ""),
        origin=Origin(entry.get("origin") or Origin.CONVENTION),
    )
    failures = [
        Observation(
            entry["id"],
            entry["operation"],
            False,
            item.get("message", ""),
            _exchange(item.get("exchange")),
            cause=item.get("cause"),
            seen=Seen(item["seen"]) if item.get("seen") in tuple(Seen) else None,
        )
        for item in entry.get("failures", [])
    ]
    return RequirementResult(
        requirement=requirement,
        operation_id=entry["operation"],
        status=Status(entry["status"]),
        passed=int(entry.get("passed", 0)),
        failed=int(entry.get("failed", 0)),
        message=entry.get("message", ""),
        reason=Unjudged(entry["reason"]) if entry.get("reason") else None,
        blocked_by=entry.get("blocked_by"),
        failures=failures,
        known=entry.get("known"),
    )


def _exchange(data: dict[str, Any] | None) -> Exchange | None:
    if data is None:
        return None
    return Exchange(
        method=data["method"],
        url=data["url"],
        curl=data["curl"],
        status=data.get("status"),
        response_headers=tuple(data.get("response_headers", {}).items()),
        body_excerpt=data.get("body_excerpt", ""),
        error=data.get("error"),
    )


def merge(reports: list[tuple[Path, Report]]) -> Report:
    """One report from the shards' reports (see the module docstring)."""
    _complete(reports)
    first = reports[0][1]
    operations = list(first.operations)
    order = {requirement.id: index for index, requirement in enumerate(catalogue())}
    folded: dict[tuple[str, str], RequirementResult] = {}
    for _, report in reports:
        for result in report.results:
            key = (result.requirement.id, result.operation_id)
            folded[key] = fold(folded[key], result) if key in folded else result
    results = sorted(
        folded.values(),
        key=lambda r: (
            order.get(r.requirement.id, len(order)),
            operations.index(r.operation_id) if r.operation_id in operations else len(operations),
            r.operation_id,
        ),
    )
    groups = list(dict.fromkeys(group for _, report in reports for group in report.groups))
    errors = [error for _, report in reports for error in report.errors]
    interrupted = any(report.interrupted for _, report in reports)
    merged = Report(
        verdict=verdict_of(results, errors=errors, interrupted=interrupted),
        results=results,
        requests_sent=sum(report.requests_sent for _, report in reports),
        duration=max(report.duration for _, report in reports),
        target=first.target,
        seed=first.seed,
        operations=tuple(operations),
        groups=tuple(groups),
        errors=errors,
        interrupted=interrupted,
    )
    merged.findings = _findings([finding for _, report in reports for finding in report.findings])
    outcomes = [report.baseline for _, report in reports if report.baseline is not None]
    if outcomes:
        merged.baseline = BaselineOutcome(outcomes[0].path, any(o.strict for o in outcomes), _fixed(outcomes, results))
        merged.verdict = baseline.verdict(merged)
    return merged


def _complete(reports: list[tuple[Path, Report]]) -> None:
    """Every shard K/N of one run, each once; or a single unsharded report."""
    if not reports:
        raise MergeError("no reports to merge")
    shards: dict[int, tuple[Path, int]] = {}
    for path, report in reports:
        if not report.shard:
            if len(reports) > 1:
                raise MergeError(f"{path}: not a shard (run with --shard K/N); nothing to merge it with")
            return
        index, total = (int(part) for part in report.shard.split("/"))
        if index in shards:
            raise MergeError(f"{path}: shard {report.shard} again (also {shards[index][0]})")
        shards[index] = (path, total)
    totals = {total for _, total in shards.values()}
    if len(totals) > 1:
        raise MergeError(
            f"the reports come from runs split differently ({' and '.join(f'N={t}' for t in sorted(totals))})"
        )
    total = totals.pop()
    missing = [f"{index}/{total}" for index in range(1, total + 1) if index not in shards]
    if missing:
        raise MergeError(f"shard {', '.join(missing)} missing: a merged verdict without it would not cover the run")
    seeds = {report.seed for _, report in reports}
    if len(seeds) > 1:
        listed = ", ".join(map(str, sorted(seeds)))
        raise MergeError(f"the shards ran with different seeds ({listed}): give every shard the same --seed")


def _findings(findings: list[Finding]) -> list[Finding]:
    """One finding per id: ids are derived from the cause alone, so shards that saw one cause name it alike."""
    by_id: dict[str, Finding] = {}
    for finding in findings:
        seen = by_id.get(finding.id)
        if seen is None:
            by_id[finding.id] = finding
        else:
            pairs = tuple(dict.fromkeys((*seen.pairs, *finding.pairs)))
            by_id[finding.id] = replace(seen, pairs=pairs, blocked=seen.blocked + finding.blocked)
    return list(by_id.values())


def _fixed(outcomes: list[BaselineOutcome], results: list[RequirementResult]) -> list[Fixed]:
    """Entries fixed in some shard and still failing in none."""
    failing = [r for r in results if r.status in (Status.FAILED, Status.BLOCKED)]
    fixed: list[Fixed] = []
    for item in (item for outcome in outcomes for item in outcome.fixed):
        still = any(
            fnmatchcase(r.requirement.id, item.requirement) and fnmatchcase(r.operation_id, item.operation)
            for r in failing
        )
        if not still and item not in fixed:
            fixed.append(item)
    return fixed


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of `pixelpact merge-reports`."""
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="the shards' --json-report files")
    parser.add_argument("--junit", metavar="PATH", type=Path, help="write JUnit XML of the merged run")
    parser.add_argument("--json-report", metavar="PATH", type=Path, help="write the merged JSON report")
    parser.add_argument("--html-report", metavar="PATH", type=Path, help="write the merged HTML report")
    parser.add_argument("--markdown-report", metavar="PATH", type=Path, help="write the merged Markdown summary")
    parser.add_argument("--baseline", metavar="FILE", type=Path, help="judge the merged run against this baseline")
    parser.add_argument("--strict-baseline", action="store_true", help="a fixed baseline entry fails the run")


def run(args: argparse.Namespace) -> int:
    from pixelpact.conformance.reporting import render, write_reports

    try:
        merged = merge([(path, read(path)) for path in args.reports])
        if args.baseline is not None:
            if not args.baseline.exists():
                raise MergeError(f"baseline {args.baseline}: no such file")
            baseline.apply(merged, baseline.load(args.baseline), strict=args.strict_baseline)
    except (MergeError, baseline.BaselineError) as exc:
        print(f"pixelpact merge-reports: {exc}", file=sys.stderr)
        return 2
    print(render(merged, color=sys.stdout.isatty()))
    try:
        written = write_reports(
            merged,
            junit=args.junit,
            json_report=args.json_report,
            html=args.html_report,
            markdown=args.markdown_report,
        )
    except OSError as exc:
        print(f"pixelpact merge-reports: cannot write a report: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return merged.exit_status
