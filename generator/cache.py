"""A content-addressed cache of generated trees, so that `--check` on an unchanged spec costs a file comparison.

The key covers everything the output is a function of: the spec's bytes, the generator's own code, templates and ruff
settings, and the versions of the libraries in the pipeline. The cache lives in the user's cache directory
(`pixelpact.generator.state`), shared by every checkout on the machine, never in the folder the command runs in. Only
successful runs are stored; a spec with problems always goes through the whole pipeline and reports them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from pixelpact.generator.state import cache_dir

GENERATOR = Path(__file__).resolve().parent
PACKAGES = ("datamodel-code-generator", "jinja2", "jsonschema", "openapi-spec-validator", "pydantic", "pyyaml", "ruff")


def key(spec: Path) -> str:
    """The cache key of generating `spec` with this generator, in this environment."""
    digest = hashlib.sha256()
    digest.update(spec.read_bytes())
    sources = sorted(
        path
        for path in GENERATOR.rglob("*")
        if path.is_file()
        and path.suffix in (".py", ".jinja", ".jinja2", ".toml")
        and "runtime" not in path.relative_to(GENERATOR).parts
    )
    for path in sources:
        digest.update(path.relative_to(GENERATOR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for package in PACKAGES:
        digest.update(f"{package}=={_version(package)}\0".encode())
    digest.update(sys.version.split()[0].encode())
    return digest.hexdigest()


def load(spec: Path) -> tuple[str, dict[str, str] | None]:
    """(key, the cached files or None)."""
    cache_key = key(spec)
    try:
        files = json.loads((cache_dir("generator") / f"{cache_key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return cache_key, None
    return cache_key, files if isinstance(files, dict) else None


def store(cache_key: str, files: dict[str, str]) -> None:
    """Save atomically; a cache that cannot be written is only a slower next run."""
    directory = cache_dir("generator")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(files, stream)
        os.replace(temporary, directory / f"{cache_key}.json")
    except OSError:
        pass


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"
