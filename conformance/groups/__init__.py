"""Requirement groups: each checks a family of requirements and reports what it saw as Observations.

A group is any object with a `name`, the `requirements` it may report on, and `run(ctx)` yielding Observations
for the operations in `ctx.operations`. The engine runs the selected groups one after the other (a group may fan
its own requests out with `ctx.map`), folds their observations into one result per (requirement, operation) and
streams them to the reports. A (requirement, operation) pair a group never reports on does not appear in the
reports at all, so a group reports a skipped Observation when it could have judged but did not (no --api-key,
budget spent).

To add a group, write a module that calls `register(GROUP)` and import it at the bottom of this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from pixelpact.conformance.model import Requirement

if TYPE_CHECKING:
    from pixelpact.conformance.engine.context import RunContext
    from pixelpact.conformance.model import Observation


class Group(Protocol):
    """What the engine needs of a requirement group."""

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


#: Every group `pixelpact check` knows, in run order (the order their modules are imported below).
ALL_GROUPS: list[Group] = []


def register(group: Group) -> Group:
    """Add a group to ALL_GROUPS; a group module calls it on its GROUP object when imported."""
    if any(existing.name == group.name for existing in ALL_GROUPS):
        raise ValueError(f"a requirement group named {group.name!r} is already registered")
    ALL_GROUPS.append(group)
    return group


def by_name(names: Iterable[str]) -> list[Group]:
    """The registered groups with these names, in run order; raises KeyError naming an unknown one."""
    wanted = list(names)
    known = {group.name for group in ALL_GROUPS}
    for name in wanted:
        if name not in known:
            raise KeyError(name)
    return [group for group in ALL_GROUPS if group.name in wanted]


# The groups register themselves on import, in run order; a new group is one more import line here.
from pixelpact.conformance.groups import valid as valid  # noqa: E402, I001  (import order is run order)
from pixelpact.conformance.groups import invalid as invalid  # noqa: E402
from pixelpact.conformance.groups import robustness as robustness  # noqa: E402
from pixelpact.conformance.groups import streaming as streaming  # noqa: E402
from pixelpact.conformance.groups import auth as auth  # noqa: E402
from pixelpact.conformance.groups import forwarding as forwarding  # noqa: E402
from pixelpact.conformance.st import group as schemathesis_group  # noqa: E402, F401
from pixelpact.conformance.groups import properties as properties  # noqa: E402
