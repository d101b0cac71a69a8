"""A content-addressed cache of generated trees, so that `--check` on an unchanged spec costs a file comparison.

The key covers everything the output is a function of: the spec's bytes, the generator's own code and templates, the
project's ruff configuration, and the versions of the libraries in the pipeline. Only successful runs are stored;
a spec with problems always goes through the whole pipeline and reports them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

GENERATOR = Path(__file__).resolve().parent
PROJECT_ROOT = GENERATOR.parent
CACHE_DIR = PROJECT_ROOT / ".cache" / "generator"
PACKAGES = ("datamodel-code-generator", "jinja2", "jsonschema", "openapi-spec-validator", "pydantic", "pyyaml", "ruff")


def key(spec: Path) -> str:
    """The cache key of generating `spec` with this generator, in this environment."""
    digest = hashlib.sha256()
    digest.update(spec.read_bytes())
    sources = sorted(
        path
        for path in GENERATOR.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".jinja", ".jinja2")
        and "runtime" not in path.relative_to(GENERATOR).parts
    )
    config = PROJECT_ROOT / "pyproject.toml"
    for path in [*sources, config] if config.exists() else sources:
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for package in PACKAGES:
        digest.update(f"{package}=={_version(package)}\0".encode())
    digest.update(sys.version.split()[0].encode())
    return digest.hexdigest()


def load(spec: Path) -> tuple[str, dict[str, str] | None]:
    """(key, the cached files or None)."""
    cache_key = key(spec)
    try:
        files = json.loads((CACHE_DIR / f"{cache_key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return cache_key, None
    return cache_key, files if isinstance(files, dict) else None


def store(cache_key: str, files: dict[str, str]) -> None:
    """Save atomically; a cache that cannot be written is only a slower next run."""
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=CACHE_DIR, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(files, stream)
        os.replace(temporary, CACHE_DIR / f"{cache_key}.json")
    except OSError:
        pass


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"
