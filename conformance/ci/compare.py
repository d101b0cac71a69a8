"""`pixelpact compare A.json B.json`: what moving from gateway A to gateway B would change, read from two reports.

    pixelpact check --base-url $LITELLM --seed 6 ... --json-report litellm.json
    pixelpact check --base-url $BIFROST --seed 6 ... --json-report bifrost.json
    pixelpact compare litellm.json bifrost.json [--format markdown]

Both reports must come from the same selection (operations and groups) and seed, so that a pair means the same
requests on both sides. Per requirement x operation, and per finding, each is:

- **broken in B**: A passed it, B fails it or is blocked on it (a finding only B has);
- **fixed in B**: A failed it or was blocked, B passes it (a finding only A has);
- **same**: both fail it (the same finding or not), or both pass it;
- **not compared**: one side did not judge it (budget, time, no evidence): no promise either way.

Exit status: 0 when B breaks nothing A kept, 1 when it breaks a pair A passed, 2 when a report cannot be read or
the two runs are not comparable (one line saying why).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pixelpact.conformance.ci.merge import MergeError, read
from pixelpact.conformance.model import Finding, Report, RequirementResult, Status
from pixelpact.conformance.reporting.text import as_code, one_line


class Change(StrEnum):
    BROKEN = "broken in B"
    FIXED = "fixed in B"
    SAME_FAILING = "same: fails in both"
    SAME_PASSING = "same: passes in both"
    NOT_COMPARED = "not compared"


class CompareError(Exception):
    """The two reports cannot be compared; one line saying why."""


@dataclass(frozen=True)
class PairChange:
    requirement: str
    operation: str
    change: Change
    a: str
    """A's status, with its finding when it failed or was blocked (`failed (F-...)`)."""
    b: str
    message: str
    """What the side that fails (B when broken, A when fixed) saw."""


@dataclass(frozen=True)
class FindingChange:
    id: str
    change: Change
    title: str
    pairs_a: int
    pairs_b: int


@dataclass
class Comparison:
    a: Report
    b: Report
    a_name: str
    b_name: str
    pairs: list[PairChange] = field(default_factory=list)
    findings: list[FindingChange] = field(default_factory=list)

    def of(self, change: Change) -> list[PairChange]:
        return [pair for pair in self.pairs if pair.change is change]

    def findings_of(self, change: Change) -> list[FindingChange]:
        return [finding for finding in self.findings if finding.change is change]

    @property
    def exit_status(self) -> int:
        return 1 if self.of(Change.BROKEN) else 0


_FAILING = (Status.FAILED, Status.BLOCKED)


def comparable(a: Report, b: Report) -> None:
    """Raise CompareError unless both runs had the same seed and selection."""
    if a.seed != b.seed:
        raise CompareError(f"the runs used different seeds ({a.seed} and {b.seed}): run both with the same --seed")
    for what, left, right in (("operations", a.operations, b.operations), ("groups", a.groups, b.groups)):
        if set(left) != set(right):
            only = sorted(set(left) ^ set(right))
            raise CompareError(f"the runs selected different {what} (differ in: {', '.join(only)}): select the same")
    if a.shard or b.shard:
        raise CompareError("a report is one shard of a run: merge the shards first (pixelpact merge-reports)")


def _status(result: RequirementResult | None, finding_of: dict[tuple[str, str], str]) -> str:
    """A pair's status on one side, with the finding that explains it when it failed or was blocked."""
    if result is None:
        return "absent"
    if result.status in _FAILING:
        finding = finding_of.get((result.requirement.id, result.operation_id)) or result.blocked_by
        return f"{result.status.value} ({finding})" if finding else result.status.value
    if result.status is Status.NOT_JUDGED and result.reason:
        return f"not judged ({result.reason.value})"
    return result.status.value


def compare(a: Report, b: Report, a_name: str = "A", b_name: str = "B") -> Comparison:
    """Every pair and finding of the two reports, classified (see the module docstring)."""
    comparable(a, b)
    finding_a = {pair: finding.id for finding in a.findings for pair in finding.pairs}
    finding_b = {pair: finding.id for finding in b.findings for pair in finding.pairs}
    left = {(r.requirement.id, r.operation_id): r for r in a.results}
    right = {(r.requirement.id, r.operation_id): r for r in b.results}
    comparison = Comparison(a, b, a_name, b_name)
    for key in sorted(left.keys() | right.keys()):
        ra, rb = left.get(key), right.get(key)
        change = _change(ra, rb)
        message = (rb.message if rb else "") if change is Change.BROKEN else (ra.message if ra else "")
        comparison.pairs.append(
            PairChange(key[0], key[1], change, _status(ra, finding_a), _status(rb, finding_b), message)
        )
    found_a = {finding.id: finding for finding in a.findings}
    found_b = {finding.id: finding for finding in b.findings}
    for finding_id in sorted(found_a.keys() | found_b.keys()):
        fa, fb = found_a.get(finding_id), found_b.get(finding_id)
        change = Change.SAME_FAILING if fa and fb else Change.FIXED if fa else Change.BROKEN
        shown = fb or fa
        title = shown.title if shown else ""
        comparison.findings.append(FindingChange(finding_id, change, title, _pairs(fa), _pairs(fb)))
    return comparison


def _pairs(finding: Finding | None) -> int:
    return len(finding.pairs) if finding else 0


def _change(a: RequirementResult | None, b: RequirementResult | None) -> Change:
    sa = a.status if a else Status.NOT_JUDGED
    sb = b.status if b else Status.NOT_JUDGED
    if Status.NOT_JUDGED in (sa, sb):
        return Change.NOT_COMPARED
    if sa is Status.PASSED:
        return Change.SAME_PASSING if sb is Status.PASSED else Change.BROKEN
    return Change.FIXED if sb is Status.PASSED else Change.SAME_FAILING


# --- rendering ----------------------------------------------------------------------------------------------------


def _headline(comparison: Comparison) -> list[str]:
    a, b = comparison.a, comparison.b
    counts = {change: len(comparison.of(change)) for change in Change}
    return [
        f"A: {comparison.a_name} ({a.target or 'the built-in stub'}): {a.verdict.value}",
        f"B: {comparison.b_name} ({b.target or 'the built-in stub'}): {b.verdict.value}",
        f"seed {a.seed}, {len(a.operations)} operation(s); {len(comparison.pairs)} requirement x operation pair(s): "
        f"{counts[Change.BROKEN]} broken in B, {counts[Change.FIXED]} fixed in B, "
        f"{counts[Change.SAME_FAILING]} failing in both, {counts[Change.SAME_PASSING]} passing in both, "
        f"{counts[Change.NOT_COMPARED]} not compared (not judged on one side)",
    ]


def _grouped(pairs: Iterable[PairChange]) -> list[tuple[str, str, str, list[str], str]]:
    """Pairs with the same requirement, statuses' findings and change folded into one row: their operations."""
    rows: dict[tuple[str, str, str], tuple[list[str], str]] = {}
    for pair in pairs:
        key = (pair.requirement, pair.a, pair.b)
        operations = rows.setdefault(key, ([], pair.message))[0]
        operations.append(pair.operation)
    return [(req, a, b, ops, message) for (req, a, b), (ops, message) in rows.items()]


_SECTIONS = (
    (Change.BROKEN, "Broken in B (A passed, B fails)"),
    (Change.FIXED, "Fixed in B (A failed, B passes)"),
    (Change.SAME_FAILING, "The same: failing in both"),
)


def to_text(comparison: Comparison) -> str:
    lines = [f"pixelpact compare {comparison.a_name} -> {comparison.b_name}", *_headline(comparison), ""]
    for change, heading in _SECTIONS:
        rows = _grouped(comparison.of(change))
        lines.append(f"{heading}: {len(comparison.of(change))} pair(s)")
        for requirement, a, b, operations, message in rows:
            lines.append(f"  {requirement} on {', '.join(operations)}: A {a}; B {b}")
            if change is not Change.SAME_FAILING and message:
                lines.append(f"      {_one_line(message)}")
        lines.append("")
    lines.append("Findings (one per root cause):")
    for finding in comparison.findings:
        sides = f"A {finding.pairs_a} pair(s), B {finding.pairs_b}"
        lines.append(f"  [{finding.change.value}] {finding.id}  {sides}: {_one_line(finding.title)}")
    verdict = "B breaks nothing A kept" if comparison.exit_status == 0 else "B breaks pairs A kept"
    lines += ["", f"{verdict}; exit {comparison.exit_status}"]
    return "\n".join(lines) + "\n"


def to_markdown(comparison: Comparison) -> str:
    icon = "✅" if comparison.exit_status == 0 else "❌"
    lines = [f"## pixelpact compare: {comparison.a_name} → {comparison.b_name} {icon}", ""]
    lines += [f"- {line}" for line in _headline(comparison)]
    for change, heading in _SECTIONS:
        rows = _grouped(comparison.of(change))
        lines += ["", f"### {heading}: {len(comparison.of(change))} pair(s)", ""]
        if not rows:
            lines.append("None.")
            continue
        lines += ["| requirement | operations | A | B |", "|---|---|---|---|"]
        for requirement, a, b, operations, _ in rows:
            lines.append(f"| `{requirement}` | {', '.join(operations)} | {_cell(a)} | {_cell(b)} |")
    lines += ["", "### Findings", "", "| finding | in A | in B | change | title |", "|---|---:|---:|---|---|"]
    for finding in comparison.findings:
        lines.append(
            f"| `{finding.id}` | {finding.pairs_a} | {finding.pairs_b} | {finding.change.value} | "
            f"{as_code(finding.title, 200, cell=True)} |"  # a title may quote the gateway: shown, never rendered
        )
    verdict = "B breaks nothing A kept" if comparison.exit_status == 0 else "B breaks pairs A kept"
    lines += ["", f"**{verdict}** (exit {comparison.exit_status})"]
    return "\n".join(lines) + "\n"


def _one_line(text: str, limit: int = 200) -> str:
    flat = one_line(text)
    return flat if len(flat) <= limit else flat[: limit - 4] + " ..."


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


# --- the command --------------------------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", type=Path, metavar="A.json", help="the report of the gateway you have (--json-report)")
    parser.add_argument("b", type=Path, metavar="B.json", help="the report of the gateway you would move to")
    parser.add_argument("--format", choices=("text", "markdown"), default="text", help="default: text")
    parser.add_argument("--a-name", default="", help="what to call A in the output (default: its file name)")
    parser.add_argument("--b-name", default="", help="what to call B in the output (default: its file name)")


def run(args: argparse.Namespace) -> int:
    try:
        comparison = compare(read(args.a), read(args.b), args.a_name or args.a.name, args.b_name or args.b.name)
    except (MergeError, CompareError) as exc:
        print(f"pixelpact compare: {exc}", file=sys.stderr)
        return 2
    if args.format == "markdown":
        sys.stdout.write(to_markdown(comparison))
    else:
        sys.stdout.write(to_text(comparison))
    return comparison.exit_status
