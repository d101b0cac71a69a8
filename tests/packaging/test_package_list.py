"""Every Python package folder of the repository is in the wheel: pyproject.toml's package list covers them all.

After the namespace move the list is explicit (`[tool.setuptools] packages`, mapped with `package-dir`), so a new
subpackage must be added there; this names the one that is missing, in a second instead of the wheel test's minute.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("conformance", "generator", "generated", "spec")


def test_every_package_folder_is_installed() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapping = setuptools.get("package-dir", {})
    prefix = {folder: name.removesuffix(f".{folder}") + "." for name, folder in mapping.items()}
    expected = {
        prefix.get(folder, "") + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    if isinstance(setuptools.get("packages"), list):
        listed = set(setuptools["packages"])
    else:
        listed = set(find_packages(str(ROOT), include=setuptools["packages"]["find"]["include"]))
    assert sorted(expected - listed) == [], "package folders missing from pyproject.toml's package list"
    assert sorted(listed - expected) == [], "listed packages with no folder"
