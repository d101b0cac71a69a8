"""The config file: pixelpact.toml / [tool.pixelpact] drive a run with no flags; flags win; targets, ${VAR},
--show-config with secrets redacted, one-line errors naming the key and the file; the pytest plugin reads it too."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pixelpact.conformance.ci import config
from pixelpact.conformance.cli import main
from tests.conformance.test_pytest_plugin import junit_outcomes, pytest_in

SECRET = "sk-config-test-9d1e0c4b"


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def pixelpact(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """`pixelpact ARGS` in a folder, in-process (the file is found from the cwd), with extra environment variables."""

    def run(cwd: Path, *args: str, **env: str) -> Done:
        monkeypatch.chdir(cwd)
        monkeypatch.delenv("PIXELPACT_API_KEY", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        status = main(list(args))
        out, err = capsys.readouterr()
        return Done(status, out, err)

    return run


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_file_drives_a_whole_run_with_no_flags(stub_url: str, tmp_path: Path) -> None:
    write(
        tmp_path / "pixelpact.toml",
        f'base-url = "{stub_url}"\noperation = ["createImage"]\ngroup = ["valid", "invalid"]\nseed = 11\n'
        'json-report = "out/report.json"\n',
    )
    (tmp_path / "deeper" / "still").mkdir(parents=True)

    command = [sys.executable, "-m", "pixelpact.conformance.cli", "check"]
    env = {k: v for k, v in os.environ.items() if k != "PIXELPACT_API_KEY"}
    # a real process, as CI runs it; the file is found in a folder above the cwd
    done = subprocess.run(command, cwd=tmp_path / "deeper" / "still", env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())  # relative to the file, not the cwd
    assert report["seed"] == 11 and report["operations"] == ["createImage"] and report["target"] == stub_url
    assert report["groups"] == ["valid", "invalid"] and report["verdict"] == "pass"


def test_pyproject_table_and_command_line_flags_win(tmp_path: Path, pixelpact: Callable[..., Done]) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.pixelpact]\ntimeout = 5\noperation = ["a"]\n')

    done = pixelpact(tmp_path, "check", "--show-config", "--operation", "createImageEdit", "--concurrency", "2")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"# config file: {tmp_path / 'pyproject.toml'} [tool.pixelpact]"
    assert f"timeout = 5.0  # {tmp_path / 'pyproject.toml'} [tool.pixelpact]" in lines
    assert 'operation = ["createImageEdit"]  # command line' in lines  # a repeatable flag replaces the list
    assert "concurrency = 2  # command line" in lines and 'auth = "bearer"  # default' in lines


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path, pixelpact: Callable[..., Done]) -> None:
    write(tmp_path / "pixelpact.toml", "seed = 3\n")
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n')

    done = pixelpact(tmp_path / "app", "check", "--show-config")

    assert f"seed = 3  # {tmp_path / 'pixelpact.toml'}" in done.stdout.splitlines()


def test_named_target_and_environment_variables_with_secrets_redacted(
    tmp_path: Path, pixelpact: Callable[..., Done]
) -> None:
    write(
        tmp_path / "pixelpact.toml",
        'base-url = "http://127.0.0.1:1"\napi-key = "${GW_KEY}"\nheader = ["X-Team: ${GW_KEY}"]\n\n'
        '[targets.staging]\nbase-url = "http://ci:${GW_KEY}@127.0.0.1:2"\nauth = "x-api-key"\n',
    )

    done = pixelpact(tmp_path, "check", "--show-config", "--target", "staging", GW_KEY=SECRET)
    assert config._redact(("X-Team", SECRET), names_only=True) == config._redact(f"X-Team: {SECRET}", names_only=True)
    assert config._redact(f"X-Team: {SECRET}", names_only=True) == "X-Team: <redacted>"

    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    label = f"{tmp_path / 'pixelpact.toml'}"
    assert f'base-url = "http://ci:<redacted>@127.0.0.1:2"  # {label} [targets.staging]' in done.stdout
    assert f'api-key = "<redacted>"  # {label}' in done.stdout
    # a header's value may be a credential under any name (the options table says so: Flag.secret_values)
    assert f'header = ["X-Team: <redacted>"]  # {label}' in done.stdout
    assert f'auth = "x-api-key"  # {label} [targets.staging]' in done.stdout


@pytest.mark.parametrize(
    ("text", "args", "error"),
    [
        (
            'base-url = "${NOT_SET_ANYWHERE}"\n',
            [],
            "{file}: base-url: environment variable NOT_SET_ANYWHERE is not set",
        ),
        ('bse-url = "x"\n', [], "{file}: unknown key 'bse-url' (keys are check's long options, e.g. base-url)"),
        ("max-examples = 0\n", [], "{file}: max-examples: expected a positive integer, got '0'"),
        ('auth = "cookie"\n', [], "{file}: auth: 'cookie' is not one of bearer, basic, x-bf-vk, x-api-key, api-key"),
        ('operation = "createImage"\nseed = [1]\n', [], "{file}: seed: expected one value, got a list"),
        ("[targets.a]\nnope = 1\n", ["--target", "a"], "{file} [targets.a]: unknown key 'nope'"),
        ("[targets.a]\nnope = 1\n", [], "{file} [targets.a]: unknown key 'nope'"),
        ("[targets.a]\n", ["--target", "b"], "{file}: no target 'b' (targets: a)"),
        ("base-url = \n", [], "{file}: not valid TOML: "),
    ],
)
def test_bad_files_are_one_line_naming_key_and_file(
    tmp_path: Path, text: str, args: list[str], error: str, pixelpact: Callable[..., Done]
) -> None:
    path = write(tmp_path / "pixelpact.toml", text)

    done = pixelpact(tmp_path, "check", *args)

    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("pixelpact check: " + error.format(file=path)), done.stderr


def test_an_option_added_later_works_in_the_file_without_changes(tmp_path: Path) -> None:
    """Keys come from the parser: a new option (here --max-time, a float, and --header, repeatable) just works."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-time", type=float, default=None)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--budget", type=int, default="7")  # a string default goes through the type, as in argparse
    config.install(parser)
    write(tmp_path / "pixelpact.toml", 'max-time = 90\nheader = ["X-Team: imaging"]\nfast = true\n')

    args = parser.parse_args(["--header", "X-Run: 1"])
    resolved = config.resolve(args, cwd=tmp_path)

    assert (args.max_time, args.header, args.fast, args.budget) == (90.0, ["X-Run: 1"], True, 7)
    assert resolved.sources == {
        "max-time": str(tmp_path / "pixelpact.toml"),
        "header": "command line",
        "fast": str(tmp_path / "pixelpact.toml"),
        "budget": "default",
    }
    assert "Unset" not in parser.format_help()


def test_a_namespace_parsed_by_hand_still_gets_real_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that parses check's options itself and calls options_from_args never sees a placeholder default."""
    from pixelpact.conformance.cli import check as run

    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    run.configure(parser)

    options = run.options_from_args(parser.parse_args(["--seed", "3"]))

    assert (options.seed, options.concurrency, options.timeout, options.auth) == (3, 4, 30.0, "bearer")


def test_help_still_shows_the_real_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "(default: 4)" in out and "Unset" not in out


def test_the_pytest_plugin_reads_the_same_file(stub_url: str, tmp_path: Path) -> None:
    write(
        tmp_path / "pixelpact.toml",
        f'base-url = "{stub_url}"\noperation = ["createImage"]\ngroup = ["streaming"]\n'
        'requirement = ["stream-content-*"]\n\n[targets.other]\nseed = 5\n',
    )

    done = pytest_in(tmp_path, "--pixelpact-target", "other", "--junitxml", "j.xml")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "seed 5" in done.stdout
    assert junit_outcomes(tmp_path / "j.xml") == {"stream-content-type[createImage]": "passed"}
