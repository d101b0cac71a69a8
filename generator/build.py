"""The whole pipeline in memory: spec file -> validated dict -> IR -> rendered, formatted files."""

from __future__ import annotations

from pathlib import Path

from pixelpact.generator.errors import GenerationFailed
from pixelpact.generator.formatting import format_files
from pixelpact.generator.loader import load_spec
from pixelpact.generator.parser import parse
from pixelpact.generator.render import render


def generate(spec: Path) -> dict[str, str]:
    """The files of the generated package, by relative path. Raises SpecError or GenerationFailed on a bad spec."""
    # Validation and generation share most of their imports (pydantic, jsonschema), so running validation in a
    # forked process beside generation was measured slower than this, not faster, on the 2-core machine.
    document = load_spec(spec, quick=True)
    api, errors = parse(document)
    if errors:
        raise GenerationFailed(str(spec), errors)
    return format_files(render(api))
