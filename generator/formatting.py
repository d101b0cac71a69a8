"""Format generated Python with the pinned ruff (`ruff check --fix`, then `ruff format`) through its stdin.

The project's own ruff configuration applies, so generated/ is a fixed point of the repository's lint and format
gates and regeneration is byte-stable on every machine with the pinned ruff.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
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
    """Format the `.py` entries of {relative path: text}; other files pass through unchanged."""
    ruff = ruff_binary()
    with ThreadPoolExecutor(max_workers=4) as pool:
        formatted = {
            path: pool.submit(format_source, text, path, ruff) if path.endswith(".py") else None
            for path, text in files.items()
        }
        return {path: future.result() if future else files[path] for path, future in formatted.items()}


def format_source(text: str, path: str, ruff: str | None = None) -> str:
    """One file through `ruff check --fix -` then `ruff format -`; `path` only names it (for messages and config)."""
    ruff = ruff or ruff_binary()
    # The stdin file name places the text inside the project, so the project's per-file settings apply to it.
    name = str(PROJECT_ROOT / "generated" / Path(path).name)
    base = (
        ["--config", str(CONFIG), "--stdin-filename", name, "-"] if CONFIG.exists() else ["--stdin-filename", name, "-"]
    )
    fixed = _run([ruff, "check", "--fix-only", "--exit-zero", "--quiet", *base], text, path)
    return _run([ruff, "format", "--quiet", *base], fixed, path)


def _run(command: list[str], text: str, path: str) -> str:
    result = subprocess.run(command, input=text, capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    if result.returncode != 0:
        raise FormattingError(f"{path}: {command[1]} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout
