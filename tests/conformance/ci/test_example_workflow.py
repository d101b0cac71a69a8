"""examples/ci/pixelpact.yml, the documented way to spread a run over a CI matrix: its commands, run as written
against the stub gateway (a key required, as a real gateway would), shard by shard and then the merge."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import stub_server

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "ci"
KEY = "sk-example-workflow-5be1d0"


def commands(job: dict[str, Any], values: dict[str, str]) -> list[str]:
    """The job's `run:` commands with its ${{ ... }} expressions filled in (installs skipped: pixelpact is here)."""

    def fill(match: re.Match[str]) -> str:
        return values[match[1].strip()]

    runs = [step["run"] for step in job["steps"] if "run" in step and "pip install" not in step["run"]]
    return [re.sub(r"\$\{\{([^}]*)\}\}", fill, run) for run in runs]


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with stub_server(StubConfig(api_keys=(KEY,))) as url:
        yield url


def test_the_matrix_commands_give_one_verdict(gateway: str, tmp_path: Path) -> None:
    workflow = yaml.safe_load((EXAMPLE / "pixelpact.yml").read_text())
    jobs = workflow["jobs"]
    shards = jobs["check"]["strategy"]["matrix"]["shard"]
    for name in ("pixelpact.toml", "pixelpact-baseline.toml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    summary = tmp_path / "step-summary.md"
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k != "PIXELPACT_API_KEY"}
    env |= {"PATH": f"{bin_dir}:{env['PATH']}", "STAGING_URL": gateway, "GATEWAY_KEY": KEY}
    env["GITHUB_STEP_SUMMARY"] = str(summary)

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-ec", command], cwd=tmp_path, env=env, capture_output=True, text=True)

    for shard in shards:
        values = {"matrix.shard": str(shard), "github.run_id": "4242"}
        for command in commands(jobs["check"], values):
            done = sh(command)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            assert KEY not in done.stdout + done.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [f"shard-{k}.json" for k in shards]

    for command in commands(jobs["verdict"], {}):
        done = sh(command)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"

    text = summary.read_text()
    assert text.startswith("## pixelpact check: ✅ PASS (exit 0)")
    # the key came from ${GATEWAY_KEY} through the config file: the auth requirements ran on the three operations
    assert "| [`auth-wrong-key-rejected`](report.html#req-auth-wrong-key-rejected) | critical | 3 | 0 |" in text
    assert (tmp_path / "out" / "junit.xml").exists() and (tmp_path / "out" / "report.html").exists()
    assert KEY not in text and KEY not in (tmp_path / "out" / "report.html").read_text()
