"""Child processes the real-gateway tiers run (LiteLLM, Bifrost): a free port, a start that waits for the health
route, a stop by PID, and no process left behind when the test run dies."""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    """Linux: have the kernel SIGTERM the child if the test process dies first, so a crashed run leaves no gateway."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the callers' finally blocks still stop it on every normal exit


def wait_ready(name: str, health: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll `health` until it answers 200; RuntimeError (naming the log) when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} while starting; see {log}")
        try:
            if httpx.get(health, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {health} within {timeout:.0f} s; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process by PID, SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def interrupt(signum: int, frame: object) -> None:
    """A SIGTERM handler for by-hand runners: `kill PID` unwinds like Ctrl-C, so the gateway is stopped too."""
    raise KeyboardInterrupt
