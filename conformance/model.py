"""The suite's vocabulary: requirements, what was observed against them, and the verdict per requirement.

Every requirement group (deterministic probes, schemathesis, hypothesis properties, forwarding checks) produces
`Observation`s; the engine folds them into one `RequirementResult` per (requirement, operation), which reports render.

One status vocabulary serves every part of the suite (evidence, findings, budgets, interruptions):

- `passed`: at least one observation exercised the requirement and none failed. Never on no evidence.
- `failed`: an observation showed the gateway breaking the requirement.
- `blocked`: the requirement's precondition never held (the route is not served, no valid request was accepted, no
  stream started); the finding that explains it is named, and the pair counts neither as passed nor as failed.
- `not-judged`: nothing exercised it, with a `Unjudged` reason saying why (no --api-key, no evidence came back, the
  budget or the time ran out, the run was interrupted).

A run's `Verdict` follows from them: a run that was cut short never passes (see `verdict_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a failure is for a client of the gateway."""

    CRITICAL = "critical"  # clients break: wrong status class, wrong shape, 5xx, dropped connections
    MAJOR = "major"  # the contract is broken but common clients cope
    MINOR = "minor"  # a detail of the contract


class Status(StrEnum):
    """The verdict on one requirement x operation pair (see the module docstring)."""

    PASSED = "passed"
    FAILED = "failed"
    BLOCKED = "blocked"
    NOT_JUDGED = "not-judged"


class Unjudged(StrEnum):
    """Why a pair was not judged."""

    NOT_APPLICABLE = "not-applicable"
    """The run's configuration or the spec rules it out: needs --api-key or --upstream, the operation has no stream."""
    NO_EVIDENCE = "no-evidence"
    """The target never produced what the requirement is about (no image, no error answer, no partial event)."""
    BUDGET = "budget"
    """--max-requests (or another budget) was spent before the pair was reached."""
    RATE_LIMITED = "rate-limited"
    """The target kept answering 429 beyond the retries and the time the run allows."""
    TIME = "time"
    """--max-time ran out."""
    INTERRUPTED = "interrupted"
    """The run was interrupted (Ctrl-C) before the pair was reached."""
    ERROR = "error"
    """The group that judges it stopped on an internal error."""


#: Reasons that mean the run was cut short: a run with such a pair is incomplete, never a bare pass.
CUT_SHORT = frozenset({Unjudged.BUDGET, Unjudged.RATE_LIMITED, Unjudged.TIME, Unjudged.INTERRUPTED, Unjudged.ERROR})
#: Reasons that mean the wall clock (or the user) cut the run: where it stopped depends on how fast the machine and the
#: target were, so a run with the same seed, code and target need not judge the same pairs. Every other part of a run
#: follows from its seed (tests/conformance/test_determinism.py).
WALL_CLOCK = frozenset({Unjudged.TIME, Unjudged.RATE_LIMITED, Unjudged.INTERRUPTED})


class Verdict(StrEnum):
    """The verdict of a run, and its exit status (`EXIT_STATUS`)."""

    PASS = "pass"
    """Every judged pair passed, and nothing was left unjudged for lack of budget, time or an error."""
    FAIL = "fail"
    """At least one pair failed or is blocked by a finding."""
    INCOMPLETE = "incomplete"
    """Nothing failed, but the run was cut short (budget, time, rate limits, a group's error): not a pass."""
    INTERRUPTED = "interrupted"
    """The run was interrupted; what it saw so far is reported, and it never passes."""
    ERROR = "error"
    """Nothing could be judged at all, and not because the clock cut the run (that is incomplete)."""


EXIT_STATUS: dict[Verdict, int] = {
    Verdict.PASS: 0,
    Verdict.FAIL: 1,
    Verdict.ERROR: 2,
    Verdict.INCOMPLETE: 3,
    Verdict.INTERRUPTED: 130,
}


class Seen(StrEnum):
    """Two-sided runs: what the provider behind the gateway saw of a failed request, read from its recording."""

    ANSWERED = "answered-2xx"
    """It received the request as sent and answered it with a 2xx."""
    FAILED = "failed"
    """It received the request and answered it with its own 4xx or 5xx."""
    UNREACHED = "never-reached"
    """Nothing of the request reached it: the gateway answered by itself."""
    CHANGED = "changed-request"
    """It received the request changed on the way (a field dropped, added or changed; the client's credentials)."""


class Origin(StrEnum):
    """Where a requirement comes from: the reports show it, so a reader can weigh a failure."""

    SEEDS = "seeds"
    """The Bifrost API reference pages the project started from (shared/seeds)."""
    BIFROST = "bifrost"
    """Bifrost's own documentation: its OpenAPI files (tests/spec/bifrost_openapi) and reference pages; each such
    requirement names where they state it (spec/BIFROST-RECONCILIATION.md, tested)."""
    CONVENTION = "convention"
    """A convention of this project's spec (spec/README.md), beyond what the seeds state."""


class Precondition(StrEnum):
    """What must have held on an operation before a requirement can be judged there; when it never held, the
    requirement is blocked by the finding that explains it."""

    ROUTE_SERVED = "route-served"
    """At least one request to the operation's route got an answer other than 404/405."""
    VALID_ACCEPTED = "valid-accepted"
    """A valid request to the operation got a 2xx."""
    STREAM_STARTED = "stream-started"
    """A stream request to the operation got a 200 text/event-stream."""


@dataclass(frozen=True)
class Requirement:
    """One named promise of the contract, with the sentence of the spec or seed it comes from."""

    id: str
    """Stable kebab-case id, e.g. "n-out-of-range-rejected"; reports, JUnit and baselines key on it."""
    title: str
    source: str
    severity: Severity
    group: str
    """The requirement group that checks it: "valid", "invalid", "robustness", "streaming", "auth", ..."""
    origin: Origin
    """Where it comes from: the seeds, Bifrost's own spec or code, or a convention of this project (every
    requirement says it, so a reader can weigh a failure: the reports show it)."""
    needs: tuple[Precondition, ...] = ()
    """Preconditions on the operation; a pair whose precondition never held is blocked, not failed or passed."""
    concerns: tuple[str, ...] = ()
    """The parts of the spec it concerns (pixelpact.conformance.catalogue.concerns): a change there re-runs it
    (`pixelpact check --changed-since`, pixelpact.conformance.specdiff.affects)."""


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as evidence; credentials are already redacted."""

    method: str
    url: str
    curl: str
    """A curl command reproducing the request (secrets redacted)."""
    status: int | None
    """None when no response came (connection dropped, timeout)."""
    response_headers: tuple[tuple[str, str], ...] = ()
    body_excerpt: str = ""
    error: str | None = None
    """Transport error text when there was no response."""
    images: tuple[bytes, ...] = ()
    """Decoded images the response carried (small ones kept for report thumbnails)."""


@dataclass(frozen=True)
class Observation:
    """A single judgement: for one requirement on one operation, this exchange passed or failed."""

    requirement_id: str
    operation_id: str
    passed: bool
    message: str = ""
    """On failure: what was expected and what was received."""
    exchange: Exchange | None = None
    skipped: bool = False
    """True when the requirement could not be judged here (e.g. the budget ran out); `message` says why."""
    reason: Unjudged | None = None
    """Why it was not judged, when `skipped` (None counts as `Unjudged.NO_EVIDENCE`)."""
    cause: str | None = None
    """On failure, what the group knows of the cause ("dropped:seed,background", "changed:n",
    "placeholder-credential"); pixelpact.conformance.catalogue.findings clusters on it before falling back to the
    exchange."""
    seen: Seen | None = None
    """On failure in a two-sided run: what the provider saw of the request (None: its recording was not read)."""

    @property
    def unjudged(self) -> Unjudged:
        return self.reason or Unjudged.NO_EVIDENCE


@dataclass
class RequirementResult:
    """The verdict for one requirement on one operation, folded from its observations."""

    requirement: Requirement
    operation_id: str
    status: Status = Status.NOT_JUDGED
    passed: int = 0
    failed: int = 0
    message: str = ""
    reason: Unjudged | None = None
    """Why it was not judged (status not-judged only)."""
    blocked_by: str | None = None
    """The id of the finding that blocks it (status blocked only)."""
    failures: list[Observation] = field(default_factory=list)
    """The first few failing observations, with their exchanges, for the reports."""
    sample: Exchange | None = None
    """The first exchange that passed, kept for the reports (e.g. thumbnails of the images a gateway returned)."""
    known: str | None = None
    """When it failed or is blocked and a baseline lists it (--baseline): the baseline's *why*. A known failure keeps
    its status; the run's verdict does not count it (pixelpact.conformance.ci.baseline)."""

    @classmethod
    def of(cls, requirement: Requirement, observation: Observation) -> RequirementResult:
        """The result of one observation alone; `fold` adds the next ones."""
        operation_id = observation.operation_id
        if observation.skipped:
            return cls(requirement, operation_id, reason=observation.unjudged, message=observation.message)
        if observation.passed:
            return cls(
                requirement,
                operation_id,
                Status.PASSED,
                passed=1,
                message=observation.message,
                sample=observation.exchange,
            )
        return cls(
            requirement, operation_id, Status.FAILED, failed=1, message=observation.message, failures=[observation]
        )


#: Failing observations a result keeps for the reports (the rest are counted).
MAX_FAILURES_KEPT = 3
#: Which status stands when two results on one pair are folded.
_PRECEDENCE = {Status.FAILED: 3, Status.BLOCKED: 2, Status.PASSED: 1, Status.NOT_JUDGED: 0}


def fold(a: RequirementResult, b: RequirementResult) -> RequirementResult:
    """Two results on one (requirement, operation) as one: the engine folds each observation into the pair's result
    with it (`RequirementResult.of`), merge-reports folds the shards' results.

    Failed stands over blocked over passed over not judged; on a tie the first (`a`) stands, so the first failure's
    message is the one reported. Counts add up, the first failures are kept (MAX_FAILURES_KEPT) and the first
    passing exchange. Between two not-judged results, a reason saying the run was cut short (budget, time,
    interrupted, error) replaces one that does not, with its message: it says more. A baseline's *why* stays only on
    a failed or blocked result."""
    winner, other = (a, b) if _PRECEDENCE[a.status] >= _PRECEDENCE[b.status] else (b, a)
    reason, message = winner.reason, winner.message
    if winner.status is Status.NOT_JUDGED and (
        reason is None or (other.reason in CUT_SHORT and reason not in CUT_SHORT)
    ):
        reason, message = other.reason, other.message
    return RequirementResult(
        requirement=winner.requirement,
        operation_id=winner.operation_id,
        status=winner.status,
        passed=a.passed + b.passed,
        failed=a.failed + b.failed,
        message=message,
        reason=reason,
        blocked_by=winner.blocked_by or other.blocked_by,
        failures=(winner.failures + other.failures)[:MAX_FAILURES_KEPT],
        sample=winner.sample or other.sample,
        known=winner.known if winner.status in (Status.FAILED, Status.BLOCKED) else None,
    )


@dataclass(frozen=True)
class Finding:
    """One root cause: the failed and blocked pairs it explains, and the smallest request that shows it.

    Built after the run by `pixelpact.conformance.catalogue.findings.diagnose`, which documents the id scheme."""

    id: str
    """Stable and short, derived from the cause alone (e.g. "F-server-error-500"); baselines key on it."""
    title: str
    """One sentence a gateway engineer understands: the operations, the field or status, what happened."""
    pairs: tuple[tuple[str, str], ...]
    """(requirement id, operation id) pairs it explains: the failed ones and those it blocks."""
    evidence: str
    """What was seen, once (one failure's message)."""
    reproduction: str = ""
    """The smallest request that shows it, as a curl line (credentials redacted)."""
    where: str | None = None
    """Two-sided runs: "gateway", "provider" (passed on faithfully) or "on-the-way" (the request was changed)."""
    blocked: int = 0
    """How many of its pairs are blocked (the rest failed)."""


@dataclass
class Report:
    """The outcome of one run: the verdict and one result per (requirement, operation) judged or skipped."""

    verdict: Verdict
    """Follows from the results (`verdict_of`): pass, fail, incomplete, interrupted or error."""
    results: list[RequirementResult]
    requests_sent: int
    duration: float
    """Wall time of the run in seconds."""
    target: str = ""
    """The base URL checked ("" for none); credentials never appear here."""
    seed: int = 0
    """The seed of the run: `--seed` reproduces it."""
    operations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    """Groups that stopped on an internal error (the run could not judge everything): one line each."""
    interrupted: bool = False
    """The run was interrupted before it ended."""
    baseline: BaselineOutcome | None = None
    """How the run compares with a baseline of known deviations (--baseline), when one was given."""
    shard: str = ""
    """"K/N" when the run was shard K of N (--shard), else empty; `pixelpact merge-reports` joins the N reports."""
    spent: dict[str, Any] = field(default_factory=dict)
    """What the run spent: requests, images asked for, megapixels, in total and per group
    (pixelpact.conformance.wire.spend)."""
    plan: dict[str, Any] | None = None
    """The plan made before the first request (pixelpact.conformance.cli.plan), when the run was planned."""
    findings: list[Finding] = field(default_factory=list)
    """One per root cause of the failed and blocked pairs (pixelpact.conformance.catalogue.findings)."""
    notes: list[str] = field(default_factory=list)
    """One-line advice about the run as a whole (every request got 404: try --prefix)."""

    @property
    def failed(self) -> list[RequirementResult]:
        return [result for result in self.results if result.status is Status.FAILED]

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.verdict]

    def coverage(self) -> Coverage:
        return Coverage.of(self.results)

    def result(self, requirement_id: str, operation_id: str) -> RequirementResult | None:
        """The result for one requirement on one operation, or None when it was not judged there."""
        return next(
            (r for r in self.results if r.requirement.id == requirement_id and r.operation_id == operation_id), None
        )

    def finding_of(self, result: RequirementResult) -> Finding | None:
        """The finding that explains a failed or blocked pair, or None."""
        pair = (result.requirement.id, result.operation_id)
        return next((finding for finding in self.findings if pair in finding.pairs), None)

    def statuses(self, requirement_id: str) -> dict[str, Status]:
        """operation id -> status of one requirement."""
        return {r.operation_id: r.status for r in self.results if r.requirement.id == requirement_id}


@dataclass(frozen=True)
class Fixed:
    """A baseline entry, on one of its operation patterns, that this run judged and saw pass: the deviation is gone."""

    requirement: str
    operation: str
    why: str
    finding: str | None = None


@dataclass
class BaselineOutcome:
    """A run against a baseline: where it is, how many failures it knew, and which of its entries no longer fail."""

    path: str
    strict: bool = False
    """--strict-baseline: a fixed entry still in the file fails the run (the baseline only shrinks)."""
    fixed: list[Fixed] = field(default_factory=list)


@dataclass(frozen=True)
class Coverage:
    """How much of a run's selection was judged: counts of pairs by status, and of unjudged pairs by reason."""

    total: int
    passed: int
    failed: int
    blocked: int
    not_judged: dict[Unjudged, int]

    @classmethod
    def of(cls, results: list[RequirementResult]) -> Coverage:
        reasons: dict[Unjudged, int] = {}
        for result in results:
            if result.status is Status.NOT_JUDGED:
                reason = result.reason or Unjudged.NO_EVIDENCE
                reasons[reason] = reasons.get(reason, 0) + 1
        return cls(
            total=len(results),
            passed=sum(r.status is Status.PASSED for r in results),
            failed=sum(r.status is Status.FAILED for r in results),
            blocked=sum(r.status is Status.BLOCKED for r in results),
            not_judged=dict(sorted(reasons.items())),
        )

    @property
    def judged(self) -> int:
        return self.passed + self.failed

    @property
    def cut_short(self) -> int:
        return sum(count for reason, count in self.not_judged.items() if reason in CUT_SHORT)

    def line(self) -> str:
        """E.g. "312 of 330 pairs judged: 312 passed, 0 failed; not judged: 10 not-applicable, 8 no-evidence"."""
        text = f"{self.judged} of {self.total} pairs judged: {self.passed} passed, {self.failed} failed"
        if self.blocked:
            text += f", {self.blocked} blocked"
        if self.not_judged:
            text += "; not judged: " + ", ".join(f"{count} {reason.value}" for reason, count in self.not_judged.items())
        return text


def verdict_of(
    results: list[RequirementResult], *, errors: list[str], interrupted: bool, strict_fixed: bool = False
) -> Verdict:
    """The run's verdict: interrupted, then fail, then error (nothing judged, the clock did not cut it), then
    incomplete, else pass.

    A failure a baseline lists (`RequirementResult.known`) does not fail the run and counts as judged; `strict_fixed`
    (a baseline entry that no longer fails, under --strict-baseline) fails it. Without a baseline no result is known.
    """
    if interrupted:
        return Verdict.INTERRUPTED
    failing = (Status.FAILED, Status.BLOCKED)
    if strict_fixed or any(result.status in failing and result.known is None for result in results):
        return Verdict.FAIL
    if not any(result.status is Status.PASSED or result.known is not None for result in results) and not any(
        result.reason in WALL_CLOCK for result in results
    ):
        # when our clock ran out first, the target never had the chance: that says nothing about it
        return Verdict.ERROR
    if errors or Coverage.of(results).cut_short:
        return Verdict.INCOMPLETE
    return Verdict.PASS
