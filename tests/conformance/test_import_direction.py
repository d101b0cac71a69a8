"""conformance/ imports point one way: each package imports only the packages before it in the run's order
(conformance/README.md, "The run"), never one after it, so a group cannot reach the registry, the engine cannot
reach a group, and the catalogue cannot reach the command. Read from the source, every import (lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "conformance"
PREFIX = "pixelpact.conformance"
#: The layers, lowest first; a module may import its own layer and the ones before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("model",),
    ("wire",),
    ("catalogue",),
    ("engine",),
    ("groups",),
    ("st",),
    ("suite",),
    ("scope",),
    ("reporting",),
    ("ci",),
    ("flags", "options", "api"),
    ("specdiff",),
    ("cli",),
    ("pytest_plugin",),  # the deprecated alias of cli/pytest_plugin.py
)
LAYER = {name: index for index, names in enumerate(LAYERS) for name in names}


def top(dotted: str) -> str:
    """The package (or top-level module) of a pixelpact.conformance module: "engine" for engine.context."""
    return dotted.removeprefix(PREFIX).lstrip(".").split(".")[0]


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            if node.module == PREFIX:
                found.update(alias.name for alias in node.names)
            else:
                found.add(top(node.module))
        elif isinstance(node, ast.Import):
            found.update(top(alias.name) for alias in node.names if alias.name.startswith(PREFIX + "."))
    return found


def test_every_package_has_a_layer() -> None:
    packages = {path.stem if path.parent == ROOT else path.relative_to(ROOT).parts[0] for path in ROOT.rglob("*.py")}
    assert packages - {"__init__"} == set(LAYER)


def test_imports_point_one_way() -> None:
    backwards = []
    for path in sorted(ROOT.rglob("*.py")):
        here = path.stem if path.parent == ROOT else path.relative_to(ROOT).parts[0]
        if here == "__init__":
            continue
        for imported in imports(path):
            if LAYER[imported] > LAYER[here]:
                backwards.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not backwards, backwards
