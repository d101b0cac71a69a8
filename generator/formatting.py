"""Format generated Python with the pinned ruff (`ruff check --fix`, then `ruff format`) through its stdin.

The generator's own ruff settings apply (`ruff-generated.toml` beside this module, passed with `--config`, which turns
off ruff's discovery of pyproject.toml / ruff.toml files): the output is the same whatever folder `pixelpact generate`
runs in, byte-stable on every machine with the pinned ruff. The repository's pyproject.toml extends those settings, so
generated/ is also a fixed point of the project's lint and format gates.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIG = Path(__file__).resolve().with_name("ruff-generated.toml")


class FormattingError(Exception):
    """ruff could not format a generated file: a generator bug, since templates must emit valid Python."""


def ruff_binary() -> str:
    """The venv's ruff (the pinned one), else the one on PATH."""
    beside = Path(sys.executable).with_name("ruff")
    if beside.exists():
        return str(beside)
    found = shutil.which("ruff")
    if found is None:
        raise FormattingError("ruff is not installed: pip install 'pixelpact[generate]' installs the pinned version")
    return found


def format_files(files: dict[str, str]) -> dict[str, str]:
    """Format the `.py` entries of {relative path: text}; other files pass through unchanged.

    All files go through one `ruff check --fix` and one `ruff format` run over a temporary directory: two processes
    whatever the number of files. The generator's config applies (`--config`), and ruff runs inside the temporary
    directory, so neither the current folder's nor the temporary directory's parents' settings reach the output.
    """
    sources = {path: text for path, text in files.items() if path.endswith(".py")}
    if not sources:
        return dict(files)
    ruff = ruff_binary()
    config = ["--config", str(CONFIG)]
    with tempfile.TemporaryDirectory(prefix="pixelpact-generate-") as tmp:
        package = Path(tmp) / "generated"
        for path, text in sources.items():
            target = package / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        _run([ruff, "check", "--fix-only", "--exit-zero", "--quiet", "--no-cache", *config, str(package)], cwd=tmp)
        _run([ruff, "format", "--quiet", "--no-cache", *config, str(package)], cwd=tmp)
        formatted = {path: (package / path).read_text(encoding="utf-8") for path in sources}
    return {path: formatted.get(path, text) for path, text in files.items()}


def _run(command: list[str], cwd: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)
    if result.returncode != 0:
        raise FormattingError(f"ruff {command[1]} failed: {result.stderr.strip() or result.stdout.strip()}")
