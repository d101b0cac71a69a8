"""Run `pixelpact check` as a real subprocess and measure it: exit status, wall time, peak RSS, console, artefacts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    code: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    reports: dict[str, str]
    """File name -> text of each report written (report.json, junit.xml, report.html)."""

    def everything(self) -> str:
        """The console and every artefact, to search for what must never appear."""
        return "\n".join([self.stdout, self.stderr, *self.reports.values()])


REPORTS = ("report.json", "junit.xml", "report.html")


def run_check(
    base_url: str | None,
    *args: str,
    out: Path,
    kill_after: float = 60.0,
    sigint_after: float | None = None,
    sigint_when: str | None = None,
    env: dict[str, str] | None = None,
    python_path: str | None = None,
) -> Run:
    """`pixelpact check --base-url URL ARGS` (the built-in stub when URL is None) with the three reports under `out`.

    SIGINT goes to it `sigint_after` seconds after `sigint_when` appeared on its stderr (or after its start).
    """
    command = [
        sys.executable,
        "-m",
        "pixelpact.conformance.cli",
        "check",
        *(["--base-url", base_url] if base_url is not None else []),
        "--json-report",
        str(out / REPORTS[0]),
        "--junit",
        str(out / REPORTS[1]),
        "--html-report",
        str(out / REPORTS[2]),
        *args,
    ]
    environment = {**os.environ, **(env or {})}
    if python_path is not None:  # another checkout of pixelpact (figures before a change)
        environment["PYTHONPATH"] = python_path
    out.mkdir(parents=True, exist_ok=True)
    with (out / "stdout").open("w") as stdout, (out / "stderr").open("w") as stderr:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment, cwd=python_path)
        interrupted = False
        armed_at = None if sigint_when is not None else started
        peak_kb = 0
        while True:
            # The child's own high-water mark, read while it runs: wait4's ru_maxrss would also count the pages it
            # shared with this (large, long-lived) pytest process between fork and exec.
            peak_kb = max(peak_kb, _high_water_kb(process.pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - started
            if armed_at is None and sigint_when is not None and sigint_when in (out / "stderr").read_text():
                armed_at = time.monotonic()
            due = sigint_after is not None and armed_at is not None and time.monotonic() - armed_at >= sigint_after
            if due and not interrupted:
                process.send_signal(signal.SIGINT)
                interrupted = True
            if elapsed > kill_after:
                process.kill()
                os.wait4(process.pid, 0)
                raise AssertionError(f"pixelpact check still running after {kill_after} s: killed")
            time.sleep(0.02)
        seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    reports = {name: (out / name).read_text() for name in REPORTS if (out / name).exists()}
    return Run(
        code=process.returncode,
        seconds=seconds,
        peak_rss_mb=(peak_kb or usage.ru_maxrss) / 1024,
        stdout=(out / "stdout").read_text(),
        stderr=(out / "stderr").read_text(),
        reports=reports,
    )


def _high_water_kb(pid: int) -> int:
    """VmHWM of a running process in KiB (0 where /proc cannot tell: then wait4's figure is used)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":  # measure by hand: python -m tests.conformance.hostile.harness BEHAVIOUR [check args...]
    import tempfile

    from tests.conformance.hostile import servers

    with servers.serve(getattr(servers, sys.argv[1])) as url, tempfile.TemporaryDirectory() as tmp:
        result = run_check(url, *sys.argv[2:], out=Path(tmp), kill_after=600, python_path=os.environ.get("PYTHONPATH"))
        print(result.stderr[-1500:])
        print(f"exit {result.code}, {result.seconds:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB")
        print(f"reports: {', '.join(sorted(result.reports))}")
