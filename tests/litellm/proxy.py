"""Install, start and stop a real LiteLLM proxy in front of pixelpact's recording upstream.

LiteLLM lives in its own virtual environment (~/.cache/pixelpact/litellm-venv, made by install.sh) and runs as a child
process bound to 127.0.0.1. Its environment is scrubbed of every provider credential and base URL: with
OPENAI_API_KEY set, LiteLLM forwards unmatched /openai/... paths to the public OpenAI API, and the run must never leave
the machine.

    with litellm_proxy(upstream_port=41000, log=Path("litellm.log")) as proxy:
        httpx.post(f"{proxy.url}/v1/images/generations", headers=proxy.headers, json={...})

By hand (what tests/litellm/DEVIATIONS.md does): `.venv/bin/python -m tests.litellm.proxy` installs and starts the
proxy, prints the `pixelpact check` command that checks it in two-sided mode, and stops the proxy on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.processes import die_with_parent, free_port, interrupt, stop, wait_ready

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONFIG = HERE / "litellm-config.yaml"
INSTALL = HERE / "install.sh"
#: Where install.sh puts the venv; the same default as the script's.
VENV = Path(
    os.environ.get("PIXELPACT_LITELLM_VENV")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pixelpact" / "litellm-venv"
)
#: LiteLLM imports ~120 packages at start-up: over 90 s at load 10 (seen under xdist beside other work).
#: A slow start is not the gateway's fault, so the bound only catches a proxy that never comes up.
START_TIMEOUT = 240.0

#: Variables that would send LiteLLM (or the OpenAI client inside it) anywhere but the recording upstream, or make
#: it look for a database. They are removed from the proxy's environment whatever the caller's shell holds.
SCRUBBED = (
    "OPENAI_API_KEY",
    "OPENAI_API_BASE",
    "OPENAI_BASE_URL",
    "OPENAI_ORGANIZATION",
    "AZURE_API_KEY",
    "AZURE_API_BASE",
    "AZURE_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_AD_TOKEN",
    "DATABASE_URL",
    "REDIS_HOST",
    "REDIS_URL",
    "LITELLM_MASTER_KEY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


class InstallError(RuntimeError):
    """LiteLLM could not be installed (no package index, no network): the tier is skipped with this reason."""


def install(timeout: float = 600.0) -> Path:
    """Run install.sh (a no-op when the pinned version is already there); the path of the venv's `litellm`."""
    try:
        done = subprocess.run(
            ["bash", str(INSTALL)], capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"tests/litellm/install.sh did not finish: {exc}") from None
    if done.returncode != 0:
        # pip's "Location ... is ignored" warnings about the machine's extra indexes would hide the real reason.
        lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("WARNING:")]
        tail = " | ".join(lines[-2:])
        raise InstallError(f"tests/litellm/install.sh failed ({done.returncode}): {tail or 'no output'}")
    return VENV / "bin" / "litellm"


@dataclass(frozen=True)
class Proxy:
    """A running LiteLLM proxy: its base URL and the master key clients authenticate with."""

    url: str
    master_key: str
    pid: int
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.master_key}"}


def proxy_environment(upstream_port: int, master_key: str) -> dict[str, str]:
    """The proxy's environment: the caller's minus SCRUBBED, plus the upstream's address and offline settings."""
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    upstream = f"http://127.0.0.1:{upstream_port}"
    env.update(
        PIXELPACT_UPSTREAM_OPENAI_BASE=f"{upstream}/v1",
        PIXELPACT_UPSTREAM_AZURE_BASE=upstream,
        LITELLM_MASTER_KEY=master_key,
        # Importing litellm otherwise fetches its model price map from GitHub (and retries for seconds offline).
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def litellm_proxy(upstream_port: int, log: Path, port: int | None = None) -> Iterator[Proxy]:
    """Start the installed LiteLLM proxy on 127.0.0.1 with the committed config; stop it (by PID) on exit."""
    executable = VENV / "bin" / "litellm"
    if not executable.exists():
        raise InstallError(f"{executable} is missing: run tests/litellm/install.sh")
    port = port or free_port()
    master_key = "sk-pixelpact-" + secrets.token_hex(16)
    command = [str(executable), "--config", str(CONFIG), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=proxy_environment(upstream_port, master_key),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
    proxy = Proxy(f"http://127.0.0.1:{port}", master_key, process.pid, log)
    try:
        wait_ready("LiteLLM", f"{proxy.url}/health/liveliness", process, log, START_TIMEOUT)
        yield proxy
    finally:
        stop(process)


def pinned_groups() -> list[str]:
    """The requirement groups whose findings on LiteLLM the tier pins (expected-deviations.json, baseline.toml)."""
    groups: list[str] = json.loads((HERE / "expected-deviations.json").read_text())["groups"]
    return groups


def main(argv: list[str] | None = None) -> int:
    """Install and run the proxy until Ctrl-C, printing how to check it with the recording upstream."""
    parser = argparse.ArgumentParser(prog="python -m tests.litellm.proxy", description=main.__doc__)
    parser.add_argument("--upstream-port", type=int, default=0, help="where its providers point (default: a free port)")
    parser.add_argument("--port", type=int, default=0, help="the proxy's own port (default: a free port)")
    parser.add_argument("--log", type=Path, default=ROOT / ".cache" / "litellm.log", help="the proxy's output")
    args = parser.parse_args(argv)
    try:
        install()
    except InstallError as exc:
        print(exc, file=sys.stderr)
        return 1
    upstream_port = args.upstream_port or free_port()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    # `kill PID` of this process must stop the proxy too: turn SIGTERM into the same unwinding as Ctrl-C.
    signal.signal(signal.SIGTERM, interrupt)
    with litellm_proxy(upstream_port, args.log, port=args.port or None) as proxy:
        print(f"LiteLLM {proxy.url} (pid {proxy.pid}, log {proxy.log}); check it with:", flush=True)
        print(
            f"  PIXELPACT_API_KEY={proxy.master_key} .venv/bin/pixelpact check --base-url {proxy.url}"
            f" --upstream-port {upstream_port} --deployment az-dalle3"
            " --prefix /openai/v1=/v1 --prefix /openai/openai/deployments=/openai/deployments"
            " --operation openaiCreateImage --operation openaiCreateImageEdit"
            " --operation azureCreateImage --operation azureCreateImageEdit"
            + "".join(f" --group {group}" for group in pinned_groups()),
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping LiteLLM", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
