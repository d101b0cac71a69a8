"""Benchmark: a full default `pixelpact check` against the local stub vs `schemathesis run --checks all` (same stub).

    .venv/bin/python bench/conformance_bench.py [--runs 3] [--write bench/RESULTS-conformance.md]

Each run starts a fresh stub gateway on 127.0.0.1 behind a counting middleware and runs one tool against it as a
subprocess, exactly as a user would type it; the script reports the median wall time and the median number of
requests (all, and distinct: same method, path, query and body, multipart boundaries ignored). Not a timed test:
run it by hand on the 2-core machine, after the suite works end to end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
BIN = Path(sys.executable).parent


@dataclass
class Counter:
    """Counts every request that reaches the stub, and the distinct ones."""

    total: int = 0
    keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message["type"] == "http.request" and message.get("more_body", False)
            body = b"".join(chunks)
            self.add(scope, body)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return {"type": "http.disconnect"}
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await app(scope, replay, send)

        return counting

    def add(self, scope: Scope, body: bytes) -> None:
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if match:
            # Random per request: two identical multipart requests differ only in their boundary.
            boundary = match.group(1).encode("latin-1")
            body = body.replace(boundary, b"B")
            content_type = content_type.replace(match.group(1), "B")
        digest = hashlib.sha256()
        for piece in (scope["method"], scope["path"], scope.get("query_string", b"").decode(), content_type):
            digest.update(piece.encode() + b"\0")
        digest.update(body)
        with self.lock:
            self.total += 1
            self.keys.add(digest.hexdigest())


@dataclass(frozen=True)
class Sample:
    seconds: float
    requests: int
    distinct: int
    exit_code: int
    load: float
    """The 1-minute load average when the run ended: the machine is shared, so say how busy it was."""
    failures: tuple[str, ...] = ()
    """What the tool reported failing (pixelpact: "requirement on operation", with the seed; schemathesis: its
    summary lines), so a failing verdict against the correct stub can be followed up."""


#: What is compared: each command as a user types it, the stub's base URL appended.
TOOLS = {
    "pixelpact check --base-url URL": [str(BIN / "pixelpact"), "check", "--base-url"],
    "schemathesis run spec/openapi.yaml --checks all --url URL": [
        str(BIN / "schemathesis"), "run", str(SPEC), "--checks", "all", "--url",
    ],
}  # fmt: skip


def measure(command: list[str] | None, timeout: float) -> Sample:
    """Run one tool against a fresh counting stub; with command None, run `pixelpact check` with its built-in stub."""
    counter = Counter()
    with tempfile.TemporaryDirectory() as cwd, stub_server(app=counter.wrap(default_app(StubConfig()))) as url:
        # A scratch working directory: neither tool picks up project config files or leaves reports in the checkout.
        argv = [str(BIN / "pixelpact"), "check"] if command is None else [*command, url]
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
        seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise SystemExit(f"{' '.join(argv)} could not run (exit {done.returncode}):\n" + "\n".join(tail))
    failures = tuple(_failures(done.stdout)) if done.returncode else ()
    return Sample(seconds, counter.total, len(counter.keys), done.returncode, os.getloadavg()[0], failures)


def _failures(stdout: str) -> list[str]:
    """pixelpact's "- <requirement> on <operation>" lines and its seed; schemathesis's failure summary lines."""
    lines = stdout.splitlines()
    seed = next((m.group(0) for line in lines if (m := re.search(r"seed \d+", line))), "")
    found = [line.strip()[2:].split(":", 1)[0] for line in lines if re.match(r"^- \S+ on \S+", line)]
    if found:
        return [seed, *found]
    # schemathesis 4: "❌ <check name>: N failures" style summary lines (kept as printed)
    return [line.strip() for line in lines if re.search(r"\b\d+ (failure|error)s?\b", line, re.IGNORECASE)][:8]


def median(samples: list[Sample], attribute: str) -> float:
    return float(statistics.median(getattr(sample, attribute) for sample in samples))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs per tool; medians are reported (default: 3)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per tool run (default: 1800)")
    parser.add_argument("--write", type=Path, help="write the results as markdown to this file")
    args = parser.parse_args()

    results: dict[str, list[Sample]] = {name: [] for name in TOOLS}
    builtin: list[Sample] = []
    for run in range(args.runs):
        for name, command in TOOLS.items():
            sample = measure(command, args.timeout)
            results[name].append(sample)
            print(f"run {run + 1} {name}: {sample}", flush=True)
        sample = measure(None, args.timeout)
        builtin.append(sample)
        print(
            f"run {run + 1} pixelpact check (built-in stub): {sample.seconds:.1f} s, load {sample.load:.1f}", flush=True
        )

    rows = [
        f"| `{name}` | {median(samples, 'seconds'):.1f} | {median(samples, 'requests'):.0f} | "
        f"{median(samples, 'distinct'):.0f} | {', '.join(str(s.exit_code) for s in samples)} | "
        f"{', '.join(f'{s.seconds:.0f}' for s in samples)} | {', '.join(f'{s.load:.1f}' for s in samples)} |"
        for name, samples in results.items()
    ]
    cpu = f"{platform.machine()}, {os.cpu_count()} cores"
    markdown = "\n".join(
        [
            "# Benchmark: the conformance suite vs schemathesis",
            "",
            "Both tools against the same local stub gateway (`pixelpact.generator.runtime.serve.stub_server`, "
            f"one uvicorn worker on 127.0.0.1), {args.runs} runs each, medians. Requests are counted by a "
            "middleware in front of the stub; *distinct* ignores multipart boundaries. Machine: "
            f"{cpu}, Python {platform.python_version()}.",
            "",
            "| command | median wall (s) | requests | distinct requests | exit codes | each run (s) | load avg |",
            "|---|---:|---:|---:|---|---|---|",
            *rows,
            "",
            f"`pixelpact check` with no `--base-url` (its built-in stub, in-process): median "
            f"{median(builtin, 'seconds'):.1f} s wall (runs: {', '.join(f'{s.seconds:.0f}' for s in builtin)} s).",
            "",
            "Failing verdicts (the tools against the correct stub):",
            "",
            *[
                f"- {name}, run {index + 1}: {'; '.join(sample.failures)}"
                for name, samples in [*results.items(), ("pixelpact check (built-in stub)", builtin)]
                for index, sample in enumerate(samples)
                if sample.failures
            ],
            "",
            "Reproduce:",
            "",
            "```sh",
            f".venv/bin/python bench/conformance_bench.py --runs {args.runs} --write bench/RESULTS-conformance.md",
            "```",
            "",
        ]
    )
    print(markdown)
    if args.write:
        args.write.write_text(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
