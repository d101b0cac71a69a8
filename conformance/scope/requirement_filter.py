"""Which requirements a run judges: `--requirement ID` / `--exclude-requirement ID`, shell-style globs on ids.

A requirement is selected when it matches at least one `--requirement` pattern (all of them when none is given) and
no `--exclude-requirement` pattern. A group none of whose requirements is selected does not run at all, so a narrow
selection sends fewer requests; a group that does run is narrowed (`Keeping`) to report on the selected requirements
alone, so the engine, the reports and the verdict see nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from pixelpact.conformance.model import Observation, Requirement

if TYPE_CHECKING:
    from pixelpact.conformance.engine.context import RunContext
    from pixelpact.conformance.engine.engine import Group


@dataclass(frozen=True)
class RequirementFilter:
    """Glob patterns on requirement ids; the empty filter keeps everything."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __call__(self, requirement_id: str) -> bool:
        if self.include and not any(fnmatchcase(requirement_id, pattern) for pattern in self.include):
            return False
        return not any(fnmatchcase(requirement_id, pattern) for pattern in self.exclude)

    @property
    def everything(self) -> bool:
        return not self.include and not self.exclude

    def unmatched(self, ids: Iterable[str]) -> list[str]:
        """Patterns that match no known id: almost always a typo, so the run refuses them."""
        known = list(ids)
        return [
            pattern
            for pattern in (*self.include, *self.exclude)
            if not any(fnmatchcase(requirement_id, pattern) for requirement_id in known)
        ]

    def narrow(self, groups: Sequence[Group]) -> list[Group]:
        """The groups with at least one selected requirement, each reporting on its selected ones alone."""
        if self.everything:
            return list(groups)
        return [Keeping(group, self) for group in groups if any(self(r.id) for r in group.requirements)]


class Keeping:
    """A group that reports only on the requirements a filter keeps (it may judge another group's requirement:
    robustness judges error bodies, so the filter applies to every observation, not to its own list only)."""

    def __init__(self, group: Group, keep: RequirementFilter) -> None:
        self._group = group
        self._keep = keep
        self.name = group.name
        self.requirements: tuple[Requirement, ...] = tuple(r for r in group.requirements if keep(r.id))

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        for observation in self._group.run(ctx):
            if self._keep(observation.requirement_id):
                yield observation
