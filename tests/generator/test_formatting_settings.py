"""The generator formats with its own ruff settings: the folder it runs in, and its ruff settings, change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpact.generator import formatting

#: A line longer than 88 columns that ruff's default settings would wrap and the generator's (120) keep.
SOURCE = (
    "def f(first_argument: int, second_argument: int, third_argument: int) -> int:\n"
    "    return first_argument + second_argument + third_argument + first_argument * 2\n"
)
#: What a gateway team's own repository could well have: other line length, other quotes, other rules.
HOSTILE = '[tool.ruff]\nline-length = 60\n[tool.ruff.format]\nquote-style = "single"\n'


def test_the_settings_ship_with_the_generator() -> None:
    assert formatting.CONFIG.is_file()
    assert formatting.CONFIG.parent == Path(formatting.__file__).resolve().parent


def test_output_ignores_the_settings_of_the_folder_it_runs_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = formatting.format_files({"m.py": SOURCE})
    assert expected["m.py"] == SOURCE, "120 columns: the generator's settings keep the line"
    hostile = tmp_path / "gateway-repo"
    hostile.mkdir()
    (hostile / "pyproject.toml").write_text(HOSTILE, encoding="utf-8")
    (hostile / "ruff.toml").write_text("line-length = 60\n", encoding="utf-8")
    monkeypatch.chdir(hostile)
    # The temporary tree ruff formats sits below TMPDIR: a config there must not apply either.
    monkeypatch.setenv("TMPDIR", str(hostile))
    monkeypatch.setattr("tempfile.tempdir", None)
    assert formatting.format_files({"m.py": SOURCE}) == expected
