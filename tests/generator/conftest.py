"""Helpers for the generator's tests: generate a spec into a temporary package and import it."""

from __future__ import annotations

import importlib
import itertools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from pixelpact.generator import drift
from pixelpact.generator.build import generate

_counter = itertools.count()


@contextmanager
def generated_package(spec: Path | str, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    """Generate `spec` (a path, or the YAML text of one) as a uniquely named package under `tmp_path`, import its
    modules, and drop them from sys.modules afterwards (openapi-python-client's GeneratedClientContext idea)."""
    if isinstance(spec, str):
        spec_path = tmp_path / "openapi.yaml"
        spec_path.write_text(spec, encoding="utf-8")
    else:
        spec_path = spec
    name = f"pixelpact_generated_{next(_counter)}"
    drift.write(generate(spec_path), tmp_path / name)
    sys.path.insert(0, str(tmp_path))
    try:
        yield {module: importlib.import_module(f"{name}.{module}") for module in ("models", "client", "server")}
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def spec_text(
    paths: dict[str, Any],
    schemas: dict[str, Any],
    components: dict[str, Any] | None = None,
    security: list[dict[str, list[str]]] | None = None,
) -> str:
    """A minimal OpenAPI 3.1 document around `paths` and component `schemas`, as YAML."""
    document: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "Test API", "version": "1"}}
    if security is not None:
        document["security"] = security
    document["paths"] = paths
    document["components"] = {"schemas": schemas, **(components or {})}
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
