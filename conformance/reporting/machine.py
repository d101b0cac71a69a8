"""Reports for other tools: JUnit XML (one testcase per requirement per operation) and JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from pixelpact.conformance.model import Exchange, Finding, Report, RequirementResult, Status

JSON_FORMAT_VERSION = 1


def exchange_dict(exchange: Exchange | None) -> dict[str, Any] | None:
    """An exchange as plain data (images left out: they are binary; the HTML report shows them)."""
    if exchange is None:
        return None
    return {
        "method": exchange.method,
        "url": exchange.url,
        "curl": exchange.curl,
        "status": exchange.status,
        "response_headers": dict(exchange.response_headers),
        "body_excerpt": exchange.body_excerpt,
        "error": exchange.error,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as plain data: its stable id, title, where it broke, the pairs it explains, the reproduction."""
    return {
        "id": finding.id,
        "title": finding.title,
        "where": finding.where,
        "evidence": finding.evidence,
        "reproduction": finding.reproduction,
        "pairs": [{"id": requirement_id, "operation": operation} for requirement_id, operation in finding.pairs],
        "blocked": finding.blocked,
    }


def result_dict(result: RequirementResult, finding: Finding | None = None) -> dict[str, Any]:
    requirement = result.requirement
    return {
        "id": requirement.id,
        "operation": result.operation_id,
        "status": result.status.value,
        "reason": result.reason.value if result.reason is not None else None,
        "blocked_by": result.blocked_by,
        "known": result.known,
        "finding": finding.id if finding is not None else None,
        "message": result.message,
        "title": requirement.title,
        "source": requirement.source,
        "severity": requirement.severity.value,
        "origin": requirement.origin.value,
        "group": requirement.group,
        "passed": result.passed,
        "failed": result.failed,
        "failures": [
            {
                "message": failure.message,
                "cause": failure.cause,
                "seen": failure.seen,
                "exchange": exchange_dict(failure.exchange),
            }
            for failure in result.failures
        ],
    }


def to_json(report: Report) -> str:
    """The JSON report: `{"verdict", "requirements": [{"id", "operation", "status", "message", ...}], ...}`."""
    document = {
        "format": JSON_FORMAT_VERSION,
        "verdict": report.verdict.value,
        "exit_status": report.exit_status,
        "interrupted": report.interrupted,
        "target": report.target,
        "seed": report.seed,
        "shard": report.shard,
        "duration": round(report.duration, 3),
        "requests_sent": report.requests_sent,
        "spent": report.spent,
        "plan": report.plan,
        "operations": list(report.operations),
        "groups": list(report.groups),
        "errors": report.errors,
        "notes": report.notes,
        "summary": {status.value: sum(r.status is status for r in report.results) for status in Status},
        "not_judged": {reason.value: count for reason, count in report.coverage().not_judged.items()},
        "findings": [finding_dict(finding) for finding in report.findings],
        "requirements": [result_dict(result, report.finding_of(result)) for result in report.results],
        "baseline": baseline_dict(report),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def baseline_dict(report: Report) -> dict[str, Any] | None:
    """The baseline the run was judged against, and its entries that no longer fail (see
    pixelpact.conformance.ci.baseline)."""
    outcome = report.baseline
    if outcome is None:
        return None
    return {
        "path": outcome.path,
        "strict": outcome.strict,
        "known": sum(result.known is not None for result in report.results),
        "fixed": [
            {"requirement": item.requirement, "operation": item.operation, "finding": item.finding, "why": item.why}
            for item in outcome.fixed
        ],
    }


def to_junit(report: Report) -> str:
    """JUnit XML: a testsuite per requirement group, a testcase per (requirement, operation)."""
    root = ET.Element(
        "testsuites", name="pixelpact check", tests=str(len(report.results)), time=f"{report.duration:.3f}"
    )
    suites: dict[str, ET.Element] = {}
    for result in report.results:
        group = result.requirement.group
        suite = suites.get(group)
        if suite is None:
            suite = suites[group] = ET.SubElement(root, "testsuite", name=f"pixelpact.{group}")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"pixelpact.{group}.{result.requirement.id}",
            name=f"{result.requirement.id}[{result.operation_id}]",
        )
        if result.known is not None:  # a known deviation reads as an expected failure, as pytest's xfail does
            ET.SubElement(case, "skipped", message=_clean(f"known deviation ({result.status.value}): {result.known}"))
        elif result.status is Status.FAILED:
            finding = report.finding_of(result)
            message = f"finding {finding.id}: {result.message}" if finding is not None else result.message
            failure = ET.SubElement(case, "failure", message=_clean(message), type=result.requirement.severity)
            failure.text = _clean(_failure_text(result))
        elif result.status is Status.BLOCKED:
            message = f"blocked by finding {result.blocked_by}: {result.message}"
            ET.SubElement(case, "failure", message=_clean(message), type="blocked")
        elif result.status is Status.NOT_JUDGED:
            reason = result.reason.value if result.reason is not None else "not judged"
            ET.SubElement(case, "skipped", message=_clean(f"not judged ({reason}): {result.message}"))
    if report.interrupted:
        # a CI reading only the JUnit file must not take a run cut short by Ctrl-C for a green one
        suite = suites["run"] = ET.SubElement(root, "testsuite", name="pixelpact.run")
        case = ET.SubElement(suite, "testcase", classname="pixelpact.run", name="run[interrupted]")
        ET.SubElement(case, "error", message="the run was interrupted: what it did not reach is not judged")
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(case.find("failure") is not None for case in cases)))
        suite.set("skipped", str(sum(case.find("skipped") is not None for case in cases)))
        suite.set("errors", str(sum(case.find("error") is not None for case in cases)))
    # counted from the cases: a known deviation is a skipped case, not a failure
    root.set("failures", str(sum(case.find("failure") is not None for case in root.iter("testcase"))))
    root.set("skipped", str(sum(case.find("skipped") is not None for case in root.iter("testcase"))))
    root.set("errors", str(len(report.errors) + report.interrupted))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _failure_text(result: RequirementResult) -> str:
    lines = [f"{result.requirement.title}", f"source: {result.requirement.source}", ""]
    for failure in result.failures:
        lines.append(failure.message)
        exchange = failure.exchange
        if exchange is not None:
            lines.append(f"  request: {exchange.curl}")
            lines.append(f"  status: {exchange.status if exchange.status is not None else exchange.error}")
            lines.append(f"  body: {exchange.body_excerpt}")
        lines.append("")
    return "\n".join(lines)


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters (hostile part names put them in messages): escape them."""
    return "".join(
        ch if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff") else f"\\x{ord(ch):02x}" for ch in text
    )
