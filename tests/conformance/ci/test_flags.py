"""Check's options are declared once (pixelpact.conformance.flags): the pytest plugin offers every one of them as
--pixelpact-NAME, and the plugin and `pixelpact check` describe the same run from the same options, with the same
defaults. The plugin runs in a real pytest process, as a team would use it; the command is parsed in this one."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpact.conformance.cli.check import configure, options_from_args
from pixelpact.conformance.engine.profiles import PROFILES
from pixelpact.conformance.flags import API_KEY_ENV, FLAGS, pytest_name
from pixelpact.generator.loader import DEFAULT_SPEC

#: A value for every option the plugin offers (switches take none); --base-url stays out of the run below: with
#: --pixelpact-url the plugin would check the gateway at collection.
SAMPLES: dict[str, str | None] = {
    "operation": "createImage",
    "group": "valid",
    "requirement": "stream-*",
    "exclude-requirement": "auth-*",
    "api-key": "sk-parity-0123456789",
    "auth": "x-api-key",
    "model": "dall-e-3",
    "deployment": "parity-deployment",
    "api-version": "2024-02-01",
    "prefix": "/v1=/openai/v1",
    "header": "X-Team: pixelpact",
    "secret-header": "X-Team",
    "spec": str(DEFAULT_SPEC),
    "seed": "11",
    "profile": "standard",
    "max-examples": "3",
    "timeout": "12.5",
    "concurrency": "2",
    "max-time": "60",
    "max-body-mb": "8",
    "max-requests": "50",
    "shard": "1/2",
    "max-images": "20",
    "rate-limit": "2/s",
    "upstream-port": "45678",
    "upstream-model-rules": "dall-e-3",
    "baseline": "known.toml",
    "strict-baseline": None,
}
#: Offered by the plugin, not part of the run compared below (see SAMPLES); --upstream excludes --upstream-port; the
#: config file's options need a file (tests/conformance/ci/test_config.py runs the plugin with one); the reports are
#: written after the run (tests/conformance/test_pytest_plugin.py).
NOT_SAMPLED = {"base-url", "upstream", "config", "target", "pixelpact", "json-report", "html-report", "markdown-report"}
#: check's options the plugin does not offer, each saying why in its Flag (`not_in_pytest`).
NOT_IN_PYTEST = {"changed-since", "plan", "update-baseline", "junit", "show-config"}

DUMP = """
import dataclasses, json, os
from pixelpact.conformance.cli.pytest_plugin import options

def test_dump(request):
    described = options(request.config)
    fields = {f.name: repr(getattr(described, f.name)) for f in dataclasses.fields(described) if f.name != "listeners"}
    with open(os.environ["PARITY_OUT"], "w") as out:
        json.dump(fields, out)
"""


def tokens(prefix: str) -> list[str]:
    """Every sampled option, as check's --NAME (prefix "--") or the plugin's --pixelpact-NAME."""
    flags = {flag.name: flag for flag in FLAGS}
    out: list[str] = []
    for name, value in SAMPLES.items():
        out.append(pytest_name(flags[name]) if prefix == "--pixelpact-" else f"--{name}")
        if value is not None:
            out.append(value)
    return out


def clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name != API_KEY_ENV}


def plugin_options(folder: Path, *args: str) -> dict[str, str]:
    """The CheckOptions the plugin describes in a pytest process of its own, field by field (repr)."""
    (folder / "test_dump.py").write_text(DUMP)
    out = folder / "options.json"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_dump.py", *args]
    env = {**clean_environment(), "PARITY_OUT": str(out)}
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    described: dict[str, str] = json.loads(out.read_text())
    return described


def command_options(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, str]:
    """The CheckOptions `pixelpact check ARGS` describes, run from the same folder (the same config file: none)."""
    monkeypatch.chdir(folder)
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    parser = argparse.ArgumentParser()
    configure(parser)
    described = options_from_args(parser.parse_args(list(args)))
    return {
        field.name: repr(getattr(described, field.name))
        for field in dataclasses.fields(described)
        if field.name != "listeners"
    }


def test_every_option_is_sampled() -> None:
    """A new option of check is offered by the plugin (or says why not: flags.Flag.pytest) and is sampled here."""
    offered = {flag.name for flag in FLAGS if flag.pytest}
    assert offered == set(SAMPLES) | NOT_SAMPLED


def test_the_plugin_lacks_no_option_of_check_but_those_that_say_why() -> None:
    """An option of check the plugin does not offer is a decision, with its reason in the table, not an omission."""
    missing = {flag.name: flag.not_in_pytest for flag in FLAGS if flag.command and not flag.pytest}
    assert set(missing) == NOT_IN_PYTEST
    assert all(reason and len(reason) > 20 for reason in missing.values()), missing


def test_both_parsers_hold_the_tables_options_and_no_other(tmp_path: Path) -> None:
    """Neither the command nor the plugin declares an option by hand: each one it has comes from flags.FLAGS."""
    parser = argparse.ArgumentParser()
    configure(parser)
    command = {option for action in parser._actions for option in action.option_strings if option.startswith("--")}
    assert command == {"--help"} | {f"--{flag.name}" for flag in FLAGS if flag.command}

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    plugin = set(re.findall(r"^\s+(--pixelpact[a-z-]*)", done.stdout, re.MULTILINE))
    assert plugin == {pytest_name(flag) for flag in FLAGS if flag.pytest}


def test_the_plugin_offers_every_option_of_check_with_the_same_help(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--help"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True)
    help_text = " ".join(done.stdout.split())
    for flag in FLAGS:
        if flag.pytest:
            assert f"{pytest_name(flag)}" in help_text, flag.name
    # what makes the plugin run comes first
    assert help_text.index("--pixelpact check the gateway the config file") < help_text.index("--pixelpact-url=URL")
    # the default the plugin states is check's: the profile's, as the profiles have it (not a number of its own)
    figures = " / ".join(str(profile.max_examples) for profile in PROFILES.values())
    assert "--pixelpact-max-examples=N examples per operation for the property-based groups" in help_text
    assert f"(default: the profile's, {figures})" in help_text
    assert "--pixelpact-timeout=SECONDS seconds per request" in help_text and "(default: 30.0)" in help_text


def test_the_plugin_and_the_command_agree_on_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plugin_options(tmp_path) == command_options(tmp_path, monkeypatch)


def test_the_plugin_and_the_command_read_every_option_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = plugin_options(tmp_path, *tokens("--pixelpact-"))
    command = command_options(tmp_path, monkeypatch, *tokens("--"))
    assert plugin == command
    # and the options were taken, not left at their defaults
    assert command != command_options(tmp_path, monkeypatch)
    assert command["timeout"] == "12.5" and command["max_body"] == str(8 * 2**20) and command["shard"] != "None"


def test_the_options_a_dry_run_drops_are_the_targets(tmp_path: Path) -> None:
    """--plan's dry run against its private stub keeps what changes the plan and drops what describes the target."""
    dropped = {flag.name for flag in FLAGS if not flag.changes_plan}
    assert dropped == {"prefix", "rate-limit"}
