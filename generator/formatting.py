"""Format generated Python with the pinned ruff (`ruff check --fix`, then `ruff format`) through its stdin.

The project's own ruff configuration applies, so generated/ is a fixed point of the repository's lint and format
gates and regeneration is byte-stable on every machine with the pinned ruff.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG = PROJECT_ROOT / "pyproject.toml"


class FormattingError(Exception):
    """ruff could not format a generated file: a generator bug, since templates must emit valid Python."""


def ruff_binary() -> str:
    """The venv's ruff (the pinned one), else the one on PATH."""
    beside = Path(sys.executable).with_name("ruff")
    if beside.exists():
        return str(beside)
    found = shutil.which("ruff")
    if found is None:
        raise FormattingError("ruff is not installed (pip install -e . installs the pinned version)")
    return found


def format_files(files: dict[str, str]) -> dict[str, str]:
    """Format the `.py` entries of {relative path: text}; other files pass through unchanged.

    All files go through one `ruff check --fix` and one `ruff format` run over a temporary directory: two processes
    whatever the number of files. The project's config applies (`--config`), so the result is the same as formatting
    the files in place inside the project.
    """
    sources = {path: text for path, text in files.items() if path.endswith(".py")}
    if not sources:
        return dict(files)
    ruff = ruff_binary()
    config = ["--config", str(CONFIG)] if CONFIG.exists() else []
    with tempfile.TemporaryDirectory(prefix="pixelpact-generate-") as tmp:
        package = Path(tmp) / "generated"
        for path, text in sources.items():
            target = package / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        _run([ruff, "check", "--fix-only", "--exit-zero", "--quiet", "--no-cache", *config, str(package)])
        _run([ruff, "format", "--quiet", "--no-cache", *config, str(package)])
        formatted = {path: (package / path).read_text(encoding="utf-8") for path in sources}
    return {path: formatted.get(path, text) for path, text in files.items()}


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    if result.returncode != 0:
        raise FormattingError(f"ruff {command[1]} failed: {result.stderr.strip() or result.stdout.strip()}")
