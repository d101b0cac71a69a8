"""Run only chosen (requirement, operation) pairs: the hook `CheckOptions.pairs` feeds.

`pixelpact check --changed-since OLD` computes the pairs a spec change touches (pixelpact.conformance.specdiff.affects);
any other selection (by requirement id, by a baseline) can hand the engine pairs the same way. A group runs only if one
of its requirements is selected, only on the operations where one is, and only the selected pairs reach the report.
A group still does all its work on those operations (the valid group sends all its valid cases): the saving is in
the groups and operations left out, not inside a group.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace

from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.engine import Group
from pixelpact.conformance.model import Observation, Requirement
from pixelpact.conformance.wire.http import BudgetExhausted

Pair = tuple[str, str]
"""(requirement id, operationId)."""


class PairsOnly:
    """A group narrowed to the selected pairs: it runs on their operations and reports on them alone."""

    def __init__(self, group: Group, pairs: frozenset[Pair]) -> None:
        self._group = group
        self._pairs = pairs
        self.name = group.name
        self.requirements: tuple[Requirement, ...] = tuple(
            requirement for requirement in group.requirements if any(requirement.id == r for r, _ in pairs)
        )
        ids = {requirement.id for requirement in self.requirements}
        self._operations = {operation for requirement, operation in pairs if requirement in ids}

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        operations = tuple(operation for operation in ctx.operations if operation.operation_id in self._operations)
        seen: set[Pair] = set()
        try:
            for observation in self._group.run(replace(ctx, operations=operations)):
                pair = (observation.requirement_id, observation.operation_id)
                # a group may judge another's requirement too (robustness: error bodies): only selected pairs count
                if pair in self._pairs:
                    seen.add(pair)
                    yield observation
        except BudgetExhausted as exc:
            # What the group did not reach is not judged; said here, pair by pair, because the engine would list
            # every requirement x operation of the run, selected or not.
            ids = {requirement.id for requirement in self.requirements}
            for requirement, operation in sorted(self._pairs - seen):
                if requirement in ids:
                    yield Observation(requirement, operation, False, str(exc), skipped=True, reason=exc.reason)


def restrict(
    groups: list[Group], operations: tuple[OperationContract, ...], pairs: Collection[Pair]
) -> tuple[list[Group], tuple[OperationContract, ...]]:
    """The groups and operations of a run narrowed to `pairs`."""
    selected = frozenset(pairs)
    wanted = {operation for _, operation in selected}
    narrowed: list[Group] = [PairsOnly(group, selected) for group in groups]
    return (
        [group for group in narrowed if group.requirements],
        tuple(operation for operation in operations if operation.operation_id in wanted),
    )
