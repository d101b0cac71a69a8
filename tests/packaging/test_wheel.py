"""`pip install pixelpact` works anywhere: the wheel, installed in a clean venv, run from an empty folder.

The wheel is built from the checkout (`python -m build`), installed with pip into a new venv (no editable install, no
checkout on sys.path; pip's cache makes it quick), first without and then with the `generate` extra, and every command
runs from a temporary folder that must stay empty: `check` on the built-in stub and on `--base-url` of a served stub,
`serve`, `validate-spec`, `generate --out DIR` (byte-identical to the committed generated/), `generate --check`, and
`pytest --pixelpact-url`. About a minute on 2 cores, most of it pip (marked `wheel`: `-m "not wheel"` leaves it out).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[2]
#: A small, fast selection that still drives real requests through every layer (sender, groups, stub, reports).
SELECTION = ["--group", "valid", "--operation", "createImage", "--max-examples", "2"]


@dataclass
class Installed:
    venv: Path
    work: Path
    env: dict[str, str]
    #: What `pixelpact generate` said before the `generate` extra was installed.
    without_extra: subprocess.CompletedProcess[str]

    def run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        executable = str(self.venv / "bin" / command[0])
        return subprocess.run(
            [executable, *command[1:]],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _checked(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result  # type: ignore[no-any-return]


def _source_tree(target: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) copied to `target`: the build writes nothing here."""
    listed = _checked(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet committed
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination, follow_symlinks=False)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    started = time.monotonic()
    source = _source_tree(base / "src")
    _checked([sys.executable, "-m", "build", "--wheel", "--outdir", str(base / "dist"), str(source)])
    (wheel,) = (base / "dist").glob("pixelpact-*.whl")
    built = time.monotonic()
    venv = base / "venv"
    # No pip inside: this interpreter's pip installs into it (`--python`), which saves ensurepip's seconds; and no
    # byte-compiling at install time (the first run compiles what it imports).
    _checked([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "PIXELPACT_CACHE_DIR": str(base / "cache")}
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-compile"]
    _checked([*pip, str(wheel), "pytest"], env=env)
    work = base / "work"
    work.mkdir()
    installed = Installed(venv, work, env, without_extra=subprocess.CompletedProcess([], 0))
    installed.without_extra = installed.run("pixelpact", "generate", "--out", str(base / "unused"))
    _checked([*pip, f"{wheel}[generate]"], env=env)
    print(f"\nwheel: built in {built - started:.1f} s, installed in {time.monotonic() - built:.1f} s", file=sys.stderr)
    yield installed
    assert list(work.iterdir()) == [], "a command left files in the folder it ran in"


def test_only_the_pixelpact_namespace_is_installed(installed: Installed) -> None:
    python = str(installed.venv / "bin" / "python")
    shown = _checked([sys.executable, "-m", "pip", "--python", python, "show", "-f", "pixelpact"], env=installed.env)
    files = shown.stdout.split("Files:", 1)[1].split()
    tops = {Path(name).parts[0] for name in files if not name.startswith("..")}
    assert tops == {"pixelpact", next(t for t in tops if t.endswith(".dist-info"))}, tops
    outside = [name for name in files if name.startswith("..")]
    assert [Path(name).name for name in outside] == ["pixelpact"], outside  # the console script
    assert "pixelpact/spec/openapi.yaml" in files


def test_generate_without_the_extra_says_what_to_install(installed: Installed) -> None:
    result = installed.without_extra
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'pixelpact[generate]'" in result.stderr


def test_validate_spec_finds_the_shipped_spec(installed: Installed) -> None:
    result = installed.run("pixelpact", "validate-spec")
    assert result.returncode == 0, result.stderr
    assert "pixelpact/spec/openapi.yaml: valid OpenAPI 3.1" in result.stdout
    assert str(ROOT) not in result.stdout


def test_check_against_the_builtin_stub(installed: Installed) -> None:
    result = installed.run("pixelpact", "check", *SELECTION)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "PASS" in result.stdout


def test_generate_out_is_the_committed_tree(installed: Installed, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    result = installed.run("pixelpact", "generate", "--out", str(out), "--no-cache")
    assert result.returncode == 0, result.stderr
    written = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(ROOT / "generated").as_posix(): p.read_bytes()
        for p in (ROOT / "generated").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert written == committed
    check = installed.run("pixelpact", "generate", "--check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_serve_then_check_and_pytest_plugin_against_it(installed: Installed) -> None:
    serve = subprocess.Popen(
        [str(installed.venv / "bin" / "pixelpact"), "serve", "--port", "0"],
        cwd=installed.work,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        banner = serve.stdout.readline()
        assert banner.startswith("pixelpact stub gateway on http://127.0.0.1:"), banner
        url = banner.split(" on ", 1)[1].split(",", 1)[0].strip()
        check = installed.run("pixelpact", "check", "--base-url", url, *SELECTION)
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
        plugin = installed.run(
            "pytest",
            "-p",
            "no:cacheprovider",
            "--pixelpact-url",
            url,
            "--pixelpact-group",
            "valid",
            "--pixelpact-operation",
            "createImage",
            "--pixelpact-max-examples",
            "2",
        )
        assert plugin.returncode == 0, plugin.stdout[-3000:] + plugin.stderr[-2000:]
        assert " passed" in plugin.stdout and "pixelpact: checking" in plugin.stdout
    finally:
        serve.terminate()
        serve.wait(10)
