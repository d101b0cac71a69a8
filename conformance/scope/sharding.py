"""`--shard K/N`: split one run over N machines, deterministically, and put the pieces back together.

The unit of work is an operation with every selected group on it: what the engine concludes across groups (a
group reporting on another's requirement, a precondition such as "a valid request was accepted" that blocks other
pairs, findings) is per operation, so a shard judges its operations exactly as an unsharded run would. Operations
are dealt round-robin in spec order: operation i goes to shard i mod N + 1. With fewer operations than shards the
unit becomes a group on an operation (dealt the same way), so every shard has work; then a precondition that fails
in one shard is not known in another, and `merge-reports` folds a pair failed in one shard and blocked in another
as failed.

Every shard computes the same plan from the same options, so the N shards cover every unit exactly once and no
request is sent twice; groups seed their randomness per operation (`RunContext.random`), so a unit sends the same
requests whichever shard runs it. `pixelpact merge-reports` folds the shards' JSON reports into one report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.model import Observation, Requirement, Unjudged
from pixelpact.conformance.wire.http import BudgetExhausted

if TYPE_CHECKING:
    from pixelpact.conformance.engine.context import RunContext
    from pixelpact.conformance.engine.engine import Group

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `total` (1-based, as CI matrices count)."""

    index: int
    total: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """ "2/3" -> Shard(2, 3); raises ValueError with the reason."""
        match = _SHARD.match(text.strip())
        if match is None:
            raise ValueError(f"expected K/N (e.g. 2/3), got {text!r}")
        index, total = int(match[1]), int(match[2])
        if total < 1 or not 1 <= index <= total:
            raise ValueError(f"shard {text}: K must be between 1 and N")
        return cls(index, total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    def plan(
        self, groups: Sequence[Group], operations: Sequence[OperationContract]
    ) -> dict[str, tuple[OperationContract, ...]]:
        """Group name -> the operations this shard runs it on (groups with none are left out)."""
        if len(operations) >= self.total:
            units = [[(group.name, operation) for group in groups] for operation in operations]
        else:
            units = [[(group.name, operation)] for operation in operations for group in groups]
        mine: dict[str, list[OperationContract]] = {}
        for position, unit in enumerate(units):
            if position % self.total == self.index - 1:
                for group_name, operation in unit:
                    mine.setdefault(group_name, []).append(operation)
        return {name: tuple(ops) for name, ops in mine.items()}

    def narrow(self, groups: Sequence[Group], operations: Sequence[OperationContract]) -> list[Group]:
        """The groups this shard runs, each on its operations of the plan (groups with none left out)."""
        plan = self.plan(groups, operations)
        return [OnOperations(group, plan[group.name]) for group in groups if group.name in plan]


class OnOperations:
    """A group run on some of the run's operations only: its part of a shard."""

    def __init__(self, group: Group, operations: tuple[OperationContract, ...]) -> None:
        self._group = group
        self.operations = operations
        self.name = group.name
        self.requirements: tuple[Requirement, ...] = group.requirements

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        seen: set[tuple[str, str]] = set()
        try:
            for observation in self._group.run(replace(ctx, operations=self.operations)):
                seen.add((observation.requirement_id, observation.operation_id))
                yield observation
        except BudgetExhausted as exc:
            # said here, pair by pair: the engine would list the budget-cut pairs on every operation of the run,
            # the other shards' too
            for requirement in self.requirements:
                for operation in self.operations:
                    pair = (requirement.id, operation.operation_id)
                    if pair not in seen:
                        yield Observation(*pair, False, str(exc), skipped=True, reason=Unjudged.BUDGET)
