"""Compare rendered files with a directory, and write them into it: one comparer for --check, tests and goldens."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: What Python leaves in a package directory; never reported or deleted.
IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


@dataclass(frozen=True)
class Drift:
    """How a directory differs from what the generator renders."""

    changed: list[tuple[str, str]] = field(default_factory=list)
    """(path, unified diff from the directory's content to the rendered one)."""
    missing: list[str] = field(default_factory=list)
    """Rendered but absent from the directory."""
    extra: list[str] = field(default_factory=list)
    """In the directory but no longer rendered."""

    @property
    def is_clean(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def report(self) -> str:
        """Unified diffs first, then MISSING: / EXTRA: lines."""
        parts = [diff for _, diff in self.changed]
        parts += [f"MISSING: {path}" for path in self.missing]
        parts += [f"EXTRA: {path}" for path in self.extra]
        return "\n".join(part.rstrip("\n") for part in parts)


def existing_files(directory: Path) -> list[str]:
    """Relative POSIX paths of the files under `directory`, caches excluded, sorted."""
    if not directory.is_dir():
        return []
    return sorted(
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file()
        and not IGNORED_PARTS.intersection(path.relative_to(directory).parts)
        and path.suffix != ".pyc"
    )


def diff(rendered: Mapping[str, str], directory: Path, label: str | None = None) -> Drift:
    """Compare without writing; `label` prefixes the paths in the diff headers (default: the directory)."""
    prefix = label if label is not None else str(directory)
    drift = Drift()
    for path, text in sorted(rendered.items()):
        target = directory / path
        if not target.is_file():
            drift.missing.append(path)
            continue
        current = target.read_text(encoding="utf-8")
        if current != text:
            lines = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{prefix}/{path} (on disk)",
                tofile=f"{prefix}/{path} (from the spec)",
            )
            drift.changed.append((path, "".join(lines)))
    drift.extra.extend(path for path in existing_files(directory) if path not in rendered)
    return drift


def write(rendered: Mapping[str, str], directory: Path) -> Drift:
    """Make `directory` hold exactly `rendered`: rewrite only changed files, delete the ones no longer rendered."""
    drift = diff(rendered, directory)
    for path in [path for path, _ in drift.changed] + drift.missing:
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered[path], encoding="utf-8", newline="\n")
    for path in drift.extra:
        (directory / path).unlink()
    return drift
