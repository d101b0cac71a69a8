"""A baseline of known deviations (--baseline FILE): a gateway with accepted deviations still gets a useful verdict.

The file is TOML, one `[[deviation]]` table per accepted deviation, each with a *why*:

    [[deviation]]
    requirement = "response-schema"                # an id or a glob ("stream-*")
    operations = ["openaiCreateImage", "azure*"]   # ids or globs; absent: every operation
    finding = "..."                                # optional: the finding's stable id, when the report has findings
    why = "data[] items carry \"b64_json\": null; LiteLLM issue #1234"

How a run reads with it, in the status vocabulary (no new status):

- A failed or blocked pair that an entry matches keeps its status and is marked `known` (the entry's why). The
  verdict does not count known failures: a run whose every failure is known passes (or is incomplete when it was cut
  short); one failure no entry matches fails it. JUnit shows a known failure as skipped, pytest as xfail.
- An entry matches a pair when its requirement and one of its operations match, and, when it names a `finding` and
  the report carries findings, when the pair belongs to that finding. A finding-only entry matches by finding alone.
- An entry (per operation pattern) that this run judged and saw pass is *fixed*: reported, and with
  --strict-baseline the run fails until the entry is removed, so the baseline only shrinks. An entry the run did not
  judge (another shard, a narrower selection) is neither.
- --update-baseline rewrites the file: fixed operations removed, new failures added (why = the failure, to be
  edited), every other entry and its why kept. The verdict of that run is still judged against the file as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pixelpact.conformance.ci.config import read_toml
from pixelpact.conformance.model import (
    BaselineOutcome,
    Fixed,
    Report,
    RequirementResult,
    Status,
    Verdict,
    verdict_of,
)

_KEYS = frozenset({"requirement", "operations", "finding", "why"})
_FAILING = (Status.FAILED, Status.BLOCKED)
HEADER = """\
# pixelpact baseline: deviations of this gateway that are known and accepted, each with why.
# `pixelpact check --baseline FILE` passes while every failure is listed here and fails on a new one; an entry that
# no longer fails is reported as fixed (--strict-baseline fails until it is removed). --update-baseline rewrites it.
"""


class BaselineError(Exception):
    """The baseline cannot be used; one line naming the file and the entry."""


@dataclass
class Entry:
    """One accepted deviation."""

    why: str
    requirement: str | None = None
    operations: list[str] = field(default_factory=lambda: ["*"])
    finding: str | None = None

    def covers(self, result: RequirementResult, finding: str | None) -> bool:
        """Whether this entry accepts `result` (of the finding `finding`, None when the report has no findings)."""
        if self.requirement is not None and not fnmatchcase(result.requirement.id, self.requirement):
            return False
        if not any(fnmatchcase(result.operation_id, pattern) for pattern in self.operations):
            return False
        if self.finding is not None and finding is not None:
            return finding == self.finding
        return self.requirement is not None  # a finding-only entry needs the report's findings


@dataclass
class Baseline:
    path: Path
    entries: list[Entry]


def load(path: Path) -> Baseline:
    """Read a baseline file; a missing file is an empty baseline (so --update-baseline can create it)."""
    if not path.exists():
        return Baseline(path, [])
    document = read_toml(path, BaselineError)
    unknown = set(document) - {"deviation"}
    if unknown:
        raise BaselineError(f"{path}: unknown key {sorted(unknown)[0]!r} (entries are [[deviation]] tables)")
    raw_entries = document.get("deviation", [])
    if not isinstance(raw_entries, list):
        raise BaselineError(f"{path}: deviation must be an array of tables ([[deviation]])")
    return Baseline(path, [_entry(path, index + 1, raw) for index, raw in enumerate(raw_entries)])


def _entry(path: Path, number: int, raw: dict[str, Any]) -> Entry:
    where = f"{path}: deviation {number}"
    unknown = set(raw) - _KEYS
    if unknown:
        raise BaselineError(f"{where}: unknown key {sorted(unknown)[0]!r} (keys: {', '.join(sorted(_KEYS))})")
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip():
        raise BaselineError(f"{where}: needs a why (a sentence saying why the deviation is accepted)")
    requirement, finding = raw.get("requirement"), raw.get("finding")
    if requirement is None and finding is None:
        raise BaselineError(f"{where}: needs a requirement (id or glob) or a finding")
    for name, value in (("requirement", requirement), ("finding", finding)):
        if value is not None and (not isinstance(value, str) or not value):
            raise BaselineError(f"{where}: {name} must be a non-empty string")
    operations = raw.get("operations", ["*"])
    if not isinstance(operations, list) or not operations or not all(isinstance(op, str) and op for op in operations):
        raise BaselineError(f"{where}: operations must be a non-empty list of operation ids or globs")
    return Entry(why=why.strip(), requirement=requirement, operations=list(operations), finding=finding)


def findings_of(report: Report) -> dict[tuple[str, str], str] | None:
    """(requirement id, operation) -> the id of the finding the pair belongs to; None when the report has none."""
    findings = getattr(report, "findings", None)
    if findings is None:
        return None
    owner: dict[tuple[str, str], str] = {}
    for finding in findings:
        for pair in _pairs_of(finding):
            owner.setdefault(pair, str(finding.id))
    for result in report.results:
        if result.blocked_by:
            owner.setdefault((result.requirement.id, result.operation_id), result.blocked_by)
    return owner


def _pairs_of(finding: Any) -> Iterator[tuple[str, str]]:
    """The (requirement, operation) pairs of a finding, whichever shape it has: `pairs`, or `results`."""
    for pair in getattr(finding, "pairs", None) or ():
        yield (str(pair[0]), str(pair[1]))
    for result in getattr(finding, "results", None) or ():
        yield (result.requirement.id, result.operation_id)


def apply(report: Report, baseline: Baseline, *, strict: bool = False) -> Report:
    """Mark the known failures, list the fixed entries and set the verdict accordingly (module docstring)."""
    owner = findings_of(report)
    for result in report.results:
        result.known = None
        if result.status in _FAILING:
            finding = owner.get((result.requirement.id, result.operation_id)) if owner is not None else None
            entry = next((entry for entry in baseline.entries if entry.covers(result, finding)), None)
            if entry is not None:
                result.known = entry.why
    report.baseline = BaselineOutcome(str(baseline.path), strict, list(_fixed(report, baseline, owner)))
    report.verdict = verdict(report)
    return report


def _fixed(report: Report, baseline: Baseline, owner: dict[tuple[str, str], str] | None) -> Iterator[Fixed]:
    for entry in baseline.entries:
        if entry.requirement is None:
            # a finding-only entry: fixed when the report has findings and this one is not among them
            if owner is not None and entry.finding not in set(owner.values()):
                yield Fixed("*", "*", entry.why, entry.finding)
            continue
        for pattern in entry.operations:
            matched = [
                result
                for result in report.results
                if fnmatchcase(result.requirement.id, entry.requirement) and fnmatchcase(result.operation_id, pattern)
            ]
            if (
                matched
                and not any(r.status in _FAILING for r in matched)
                and any(r.status is Status.PASSED for r in matched)
            ):
                yield Fixed(entry.requirement, pattern, entry.why, entry.finding)


def updated(baseline: Baseline, report: Report) -> Baseline:
    """The baseline this run suggests: fixed operations dropped, new failures added, everything else kept."""
    fixed = {
        (item.requirement, item.operation, item.finding) for item in (report.baseline.fixed if report.baseline else [])
    }
    entries: list[Entry] = []
    for entry in baseline.entries:
        if entry.requirement is None:
            if ("*", "*", entry.finding) not in fixed:
                entries.append(entry)
            continue
        kept = [op for op in entry.operations if (entry.requirement, op, entry.finding) not in fixed]
        if kept:
            entries.append(Entry(entry.why, entry.requirement, kept, entry.finding))
    entries += _new_entries(report)
    return Baseline(baseline.path, entries)


def _new_entries(report: Report) -> list[Entry]:
    """One entry per requirement (and finding) that failed without being known, listing its operations."""
    owner = findings_of(report) or {}
    grouped: dict[tuple[str, str | None], list[RequirementResult]] = {}
    for result in report.results:
        if result.status in _FAILING and result.known is None:
            key = (result.requirement.id, owner.get((result.requirement.id, result.operation_id)))
            grouped.setdefault(key, []).append(result)
    return [
        Entry(
            why=f"TODO say why this is accepted; seen: {results[0].message or results[0].status.value}",
            requirement=requirement,
            operations=[result.operation_id for result in results],
            finding=finding,
        )
        for (requirement, finding), results in grouped.items()
    ]


def dump(baseline: Baseline) -> str:
    """The baseline as TOML: a header, then one [[deviation]] table per entry, operations one per line."""
    blocks = [HEADER]
    for entry in baseline.entries:
        lines = ["[[deviation]]"]
        if entry.requirement is not None:
            lines.append(f"requirement = {_string(entry.requirement)}")
        if entry.operations != ["*"]:
            lines.append("operations = [" + "".join(f"\n    {_string(op)}," for op in entry.operations) + "\n]")
        if entry.finding is not None:
            lines.append(f"finding = {_string(entry.finding)}")
        lines.append(f"why = {_string(entry.why)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def write(baseline: Baseline) -> None:
    baseline.path.parent.mkdir(parents=True, exist_ok=True)
    baseline.path.write_text(dump(baseline), encoding="utf-8")


def _string(text: str) -> str:
    """A TOML basic string (json.dumps escapes are TOML's, except that TOML wants no \\/ and has no \\u surrogates)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def verdict(report: Report) -> Verdict:
    """The verdict when known failures do not count (pixelpact.conformance.model.verdict_of, which decides it)."""
    outcome = report.baseline
    strict_fixed = outcome is not None and outcome.strict and bool(outcome.fixed)
    return verdict_of(report.results, errors=report.errors, interrupted=report.interrupted, strict_fixed=strict_fixed)
