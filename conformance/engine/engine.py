"""The engine: runs the selected groups, folds their observations into results, and emits events as it goes.

Events decouple the run from what shows it: the progress line, the reports and the pytest plugin all consume the
same stream (RunStarted, GroupStarted, ObservationMade, GroupFinished, RunFinished).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pixelpact.conformance.catalogue.findings import diagnose
from pixelpact.conformance.catalogue.preconditions import Preconditions
from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.model import (
    Observation,
    Report,
    Requirement,
    RequirementResult,
    Unjudged,
    Verdict,
    fold,
    verdict_of,
)
from pixelpact.conformance.wire.http import BudgetExhausted, TargetSilent
from pixelpact.conformance.wire.spend import Spent


@dataclass(frozen=True)
class RunStarted:
    target: str
    operations: tuple[str, ...]
    groups: tuple[str, ...]
    seed: int
    builtin: bool = False
    """The target is the built-in stub gateway, started for this run."""


@dataclass(frozen=True)
class GroupStarted:
    name: str


@dataclass(frozen=True)
class ObservationMade:
    group: str
    observation: Observation
    requests_sent: int


@dataclass(frozen=True)
class GroupFinished:
    name: str
    error: str | None = None


@dataclass(frozen=True)
class RunFinished:
    report: Report


Event = RunStarted | GroupStarted | ObservationMade | GroupFinished | RunFinished
Listener = Callable[[Event], None]


class Folder:
    """Folds observations into one RequirementResult per (requirement, operation)."""

    def __init__(self, requirements: Sequence[Requirement], operations: Sequence[str]) -> None:
        self._requirements = {requirement.id: requirement for requirement in requirements}
        self._requirement_order = {requirement.id: i for i, requirement in enumerate(requirements)}
        self._operation_order = {operation: i for i, operation in enumerate(operations)}
        self._results: dict[tuple[str, str], RequirementResult] = {}

    def add(self, observation: Observation) -> RequirementResult:
        requirement = self._requirements.get(observation.requirement_id)
        if requirement is None:
            raise KeyError(f"observation for unknown requirement {observation.requirement_id!r}")
        key = (observation.requirement_id, observation.operation_id)
        single = RequirementResult.of(requirement, observation)
        earlier = self._results.get(key)
        result = self._results[key] = single if earlier is None else fold(earlier, single)
        return result

    def cut_short(
        self, requirements: Sequence[Requirement], operations: Sequence[str], reason: Unjudged, why: str
    ) -> None:
        """Pairs a group never reached because the run was cut short are listed as not judged, with the reason."""
        for requirement in requirements:
            for operation in operations:
                if (requirement.id, operation) not in self._results:
                    self.add(Observation(requirement.id, operation, False, why, skipped=True, reason=reason))

    def results(self) -> list[RequirementResult]:
        def order(result: RequirementResult) -> tuple[int, int, str]:
            return (
                self._requirement_order[result.requirement.id],
                self._operation_order.get(result.operation_id, len(self._operation_order)),
                result.operation_id,
            )

        return sorted(self._results.values(), key=order)


class Group(Protocol):
    """What the engine needs of a requirement group (pixelpact.conformance.groups, pixelpact.conformance.st)."""

    @property
    def name(self) -> str:
        """The group's name, as --group selects it (e.g. "valid")."""
        ...

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """Every requirement this group may report on."""
        ...

    def run(self, ctx: RunContext) -> Iterable[Observation]:
        """Check the group's requirements on `ctx.operations`, yielding observations as they are made."""
        ...


class Engine:
    """Runs groups over a RunContext and produces the Report."""

    def __init__(
        self,
        ctx: RunContext,
        groups: Sequence[Group],
        listeners: Iterable[Listener] = (),
        catalogue: Sequence[Requirement] = (),
    ) -> None:
        self.ctx = ctx
        self.groups = list(groups)
        self.listeners = list(listeners)
        self.catalogue = list(catalogue)
        """Every requirement of the suite (pixelpact.conformance.suite.declared), not just the selected groups'."""

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def execute(self) -> Report:
        started = time.perf_counter()
        operations = tuple(operation.operation_id for operation in self.ctx.operations)
        operations += tuple(operation_id for operation_id, _ in self.ctx.unserved)
        # Every known requirement, not just the selected groups': a group may report on another's requirement
        # (robustness judges error bodies too), and the report order stays the catalogue's.
        declared = [*self.catalogue, *(requirement for group in self.groups for requirement in group.requirements)]
        known = {requirement.id: requirement for requirement in declared}
        folder = Folder(list(known.values()), operations)
        preconditions = Preconditions()
        errors: list[str] = []
        self.emit(
            RunStarted(
                self.ctx.sender.redact(self.ctx.target.base_url),
                operations,
                tuple(g.name for g in self.groups),
                self.ctx.seed,
                self.ctx.target.builtin,
            )
        )
        interrupted = False
        budget = self.ctx.sender.budget
        by_group: dict[str, Spent] = {}
        for index, group in enumerate(self.groups):
            before = budget.snapshot()
            error = None
            try:
                self.emit(GroupStarted(group.name))
                for observation in group.run(self.ctx):
                    # the one place evidence is redacted as a whole: a group may quote what the gateway echoed
                    observation = self.ctx.sender.redact.observation(observation)
                    folder.add(observation)
                    preconditions.see(observation)
                    self.emit(ObservationMade(group.name, observation, self.ctx.sender.requests_sent))
            except BudgetExhausted as exc:
                # the group stopped early: what it did not reach is listed as not judged (budget, time, rate-limited)
                folder.cut_short(group.requirements, operations, exc.reason, str(exc))
            except KeyboardInterrupt:
                interrupted = True
                for rest in self.groups[index:]:
                    folder.cut_short(rest.requirements, operations, Unjudged.INTERRUPTED, "the run was interrupted")
            except Exception as exc:  # a bug in a group must not hide the other groups' verdicts
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                error = f"group {group.name!r} stopped at {where}: {type(exc).__name__}: {exc}"
                errors.append(error)
                folder.cut_short(group.requirements, operations, Unjudged.ERROR, error)
            by_group[group.name] = budget.snapshot().minus(before).plus(by_group.get(group.name, Spent()))
            self.emit(GroupFinished(group.name, error))
            if self.ctx.sender.interrupted and not interrupted:
                # schemathesis and hypothesis catch KeyboardInterrupt themselves; the sender saw the Ctrl-C anyway
                interrupted = True
                for rest in self.groups[index:]:
                    folder.cut_short(rest.requirements, operations, Unjudged.INTERRUPTED, "the run was interrupted")
            if interrupted:
                break
            stopped = self.ctx.sender.stopped
            if stopped is not None and stopped.reason is not Unjudged.BUDGET:
                # the time is up or the target is silent: nothing after this group could send a request
                for rest in self.groups[index + 1 :]:
                    folder.cut_short(rest.requirements, operations, stopped.reason, str(stopped))
                break
        for operation_id, why in self.ctx.unserved:
            # the model behind the gateway does not do this operation: nothing was sent, nothing judged
            for group in self.groups:
                folder.cut_short(group.requirements, (operation_id,), Unjudged.NOT_APPLICABLE, why)
        silent = self.ctx.sender.stopped if isinstance(self.ctx.sender.stopped, TargetSilent) else None
        if silent is not None:
            errors.append(str(silent))
        results = folder.results()
        # pairs whose precondition never held become blocked; failures are clustered into one finding per cause
        methods = {operation.operation_id: operation.method for operation in self.ctx.operations}
        findings = diagnose(results, preconditions, methods)
        verdict = verdict_of(results, errors=errors, interrupted=interrupted)
        report = Report(
            # a target that answered nothing is not judged failing: the suite could not judge it (exit 2)
            verdict=Verdict.ERROR if silent is not None and not interrupted else verdict,
            results=results,
            requests_sent=self.ctx.sender.requests_sent,
            duration=time.perf_counter() - started,
            target=self.ctx.sender.redact(self.ctx.target.base_url),
            seed=self.ctx.seed,
            operations=operations,
            groups=tuple(group.name for group in self.groups),
            errors=[self.ctx.sender.redact(error) for error in errors],
            interrupted=interrupted,
            spent={**budget.snapshot().as_dict(), "groups": {name: used.as_dict() for name, used in by_group.items()}},
            findings=findings,
        )
        self.emit(RunFinished(report))
        return report
