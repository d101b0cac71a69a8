"""Which requirements a run judges: `--requirement ID` / `--exclude-requirement ID`, shell-style globs on ids.

A requirement is selected when it matches at least one `--requirement` pattern (all of them when none is given) and
no `--exclude-requirement` pattern. A group none of whose requirements is selected does not run at all, so a narrow
selection sends fewer requests; a group that does run reports only on the selected requirements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.groups import Group


@dataclass(frozen=True)
class Selection:
    """Glob patterns on requirement ids; the empty selection keeps everything."""

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

    def groups(self, groups: Sequence[Group]) -> list[Group]:
        """The groups with at least one selected requirement, in their order."""
        return [group for group in groups if any(self(requirement.id) for requirement in group.requirements)]
