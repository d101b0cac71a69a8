"""A check leaves nothing in the folder it runs in: hypothesis's state goes under pixelpact's cache directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The quickest run that drives hypothesis (the properties group writes `.hypothesis/constants` when unguarded).
CHECK = [
    "-m",
    "pixelpact.conformance.cli",
    "check",
    "--group",
    "properties",
    "--operation",
    "createImage",
    "--max-examples",
    "2",
]


def _check(cwd: Path, **env: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"} | env
    result = subprocess.run(
        [sys.executable, *CHECK], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_leaves_no_state_in_the_working_folder(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    _check(work, PIXELPACT_CACHE_DIR=str(cache))
    assert list(work.iterdir()) == []
    assert (cache / "hypothesis").is_dir()


def test_a_chosen_hypothesis_directory_is_kept(tmp_path: Path) -> None:
    work, chosen = tmp_path / "work", tmp_path / "chosen"
    work.mkdir()
    _check(work, PIXELPACT_CACHE_DIR=str(tmp_path / "cache"), HYPOTHESIS_STORAGE_DIRECTORY=str(chosen))
    assert list(work.iterdir()) == []
    assert chosen.is_dir()
    assert not (tmp_path / "cache" / "hypothesis").exists()
