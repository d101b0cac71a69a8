"""`pixelpact check --help` and `serve --help` answer fast because they import none of the suite's heavy libraries.

Not a timed test (bench/startup_bench.py measures the time): it names the modules that made `--help` slow, so a new
top-level import in conformance/cli/check.py or generator/runtime/serve.py fails here with the module to make lazy.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Each costs tens to hundreds of milliseconds to import; none is needed to print the options.
HEAVY = (
    "httpx",
    "hypothesis",
    "schemathesis",
    "uvicorn",
    "starlette",
    "pydantic",
    "jsonschema",
    "jsonschema_rs",
    "openapi_spec_validator",
    "PIL",
    "jinja2",
    "datamodel_code_generator",
)

PROBE = """
import contextlib, io, sys
from pixelpact.conformance.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main([{command!r}, "--help"])
print(" ".join(sorted({{name.partition(".")[0] for name in sys.modules}} & set({heavy!r}))))
"""


@pytest.mark.parametrize("command", ["check", "serve", "validate-spec", "generate"])
def test_help_imports_no_heavy_library(command: str) -> None:
    probe = PROBE.format(command=command, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == [], f"`pixelpact {command} --help` imports {result.stdout.strip()}"
