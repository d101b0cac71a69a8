"""The suite: every requirement group `pixelpact check` runs, in run order, and the catalogue of their requirements.

The one place that imports the groups. A new group is a module under groups/ (or st/) that defines `GROUP` and one
more entry in ALL_GROUPS below; nothing registers itself on import. The engine is handed the groups and the
catalogue (pixelpact.conformance.api does it) and reads no global of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pixelpact.conformance.engine.engine import Group
from pixelpact.conformance.groups import auth, forwarding, invalid, properties, robustness, streaming, valid
from pixelpact.conformance.model import Requirement
from pixelpact.conformance.st import group as schemathesis

#: Every group pixelpact check knows, in run order.
ALL_GROUPS: tuple[Group, ...] = (
    valid.GROUP,
    invalid.GROUP,
    robustness.GROUP,
    streaming.GROUP,
    auth.GROUP,
    forwarding.GROUP,
    schemathesis.GROUP,
    properties.GROUP,
)


def _unique(groups: Sequence[Group]) -> None:
    names = [group.name for group in groups]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"a requirement group named {name!r} is already registered")


_unique(ALL_GROUPS)


def by_name(names: Iterable[str], groups: Sequence[Group] = ALL_GROUPS) -> list[Group]:
    """The groups with these names, in run order; raises KeyError naming an unknown one."""
    wanted = list(names)
    known = {group.name for group in groups}
    for name in wanted:
        if name not in known:
            raise KeyError(name)
    return [group for group in groups if group.name in wanted]


def declared(groups: Sequence[Group] = ALL_GROUPS) -> list[Requirement]:
    """Every requirement every group declares, in run order, repeats included (a group may report on another's)."""
    return [requirement for group in groups for requirement in group.requirements]


def catalogue(groups: Sequence[Group] = ALL_GROUPS) -> tuple[Requirement, ...]:
    """Every requirement of the groups, in run order, each once (the first declaration of an id stands)."""
    seen: dict[str, Requirement] = {}
    for requirement in declared(groups):
        seen.setdefault(requirement.id, requirement)
    return tuple(seen.values())
