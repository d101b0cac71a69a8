"""The suite's vocabulary: requirements, what was observed against them, and the verdict per requirement.

Every requirement group (deterministic probes, schemathesis, hypothesis properties, forwarding checks) produces
`Observation`s; the engine folds them into one `RequirementResult` per (requirement, operation), which reports render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a failure is for a client of the gateway."""

    CRITICAL = "critical"  # clients break: wrong status class, wrong shape, 5xx, dropped connections
    MAJOR = "major"  # the contract is broken but common clients cope
    MINOR = "minor"  # a detail of the contract


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


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


@dataclass
class RequirementResult:
    """The verdict for one requirement on one operation, folded from its observations."""

    requirement: Requirement
    operation_id: str
    status: Status = Status.SKIP
    passed: int = 0
    failed: int = 0
    message: str = ""
    failures: list[Observation] = field(default_factory=list)
    """The first few failing observations, with their exchanges, for the reports."""
    sample: Exchange | None = None
    """The first exchange that passed, kept for the reports (e.g. thumbnails of the images a gateway returned)."""


@dataclass
class Report:
    """The outcome of one run: the verdict and one result per (requirement, operation) judged or skipped."""

    verdict: str
    """"pass" when no requirement failed, "fail" otherwise."""
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

    @property
    def failed(self) -> list[RequirementResult]:
        return [result for result in self.results if result.status is Status.FAIL]

    def result(self, requirement_id: str, operation_id: str) -> RequirementResult | None:
        """The result for one requirement on one operation, or None when it was not judged there."""
        return next(
            (r for r in self.results if r.requirement.id == requirement_id and r.operation_id == operation_id), None
        )

    def statuses(self, requirement_id: str) -> dict[str, Status]:
        """operation id -> status of one requirement."""
        return {r.operation_id: r.status for r in self.results if r.requirement.id == requirement_id}
