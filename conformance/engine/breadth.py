"""Budgets spent breadth first: with --max-requests or --max-images, every selected pair first gets its cheapest
judging exchange (the quick profile's pass over every group), and only what is left goes to the profile's depth.

A pair the quick pass judged keeps its verdict when the depth pass runs out of budget; a pair neither pass reached
is listed as not judged (budget). The depth pass repeats the quick pass's requests among its own (its groups know
nothing of the first pass), which a budget pays for once more: the price of never starving a pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.engine.engine import Group
from pixelpact.conformance.engine.profiles import QUICK, Profile
from pixelpact.conformance.model import Observation, Requirement


@dataclass(frozen=True)
class AtDepth:
    """A group run at a given profile (its own examples count unless --max-examples set one)."""

    group: Group
    profile: Profile
    max_examples: int | None = None

    @property
    def name(self) -> str:
        return self.group.name

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self.group.requirements

    def run(self, ctx: RunContext) -> Iterable[Observation]:
        examples = self.max_examples if self.max_examples is not None else self.profile.max_examples
        return self.group.run(replace(ctx, profile=self.profile, max_examples=examples))


def breadth_first(groups: Sequence[Group], profile: Profile, *, explicit_examples: int | None) -> list[Group]:
    """The groups in two passes (quick, then `profile`); one pass when the profile is quick already."""
    if profile.name == QUICK.name:
        return list(groups)
    return [
        *(AtDepth(group, QUICK, explicit_examples) for group in groups),
        *(AtDepth(group, profile, explicit_examples) for group in groups),
    ]
