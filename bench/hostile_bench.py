"""Benchmark: `pixelpact check` against hostile gateways: time to end, peak RSS, exit status, leaked keys.

    .venv/bin/python -m bench.hostile_bench [--before DIR] [--kill-after 120] [--only TEXT]    (from the root)

Each case starts one of the raw-socket gateways of tests/conformance/hostile/servers.py on 127.0.0.1 and runs the
check as a subprocess with the key in PIXELPACT_API_KEY; peak RSS is the child's own (wait4). `--before DIR` runs
another checkout of pixelpact the same way for a comparison in the same run, e.g. the commit before a change (under
a `pixelpact/` folder: a checkout's bare folders would not be found, and the installed one would be measured twice):

    mkdir -p /tmp/before/pixelpact
    git archive HEAD~1 conformance generator generated spec | tar -x -C /tmp/before/pixelpact

A run still going after --kill-after seconds is killed and reported as such. Not a timed test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.conformance.conftest import API_KEY
from tests.conformance.hostile import servers
from tests.conformance.hostile.harness import run_check

CASES: list[tuple[str, servers.Behaviour, tuple[str, ...], float | None]] = [
    ("never answers (every group, --timeout 2)", servers.never_answers, ("--timeout", "2"), None),
    (
        "endless SSE (streaming, createImage, --timeout 5)",
        servers.endless_sse,
        ("--timeout", "5", "--group", "streaming", "--operation", "createImage"),
        None,
    ),
    (
        "50 MB bodies (valid, createImage, default cap)",
        servers.huge_body,
        ("--timeout", "10", "--group", "valid", "--operation", "createImage"),
        None,
    ),
    (
        "50 MB bodies, quick profile (every group, default cap)",
        servers.huge_body,
        ("--timeout", "10", "--profile", "quick"),
        None,
    ),
    (
        "50 MB bodies, deep profile (every group, default cap, --max-time 600)",
        servers.huge_body,
        ("--timeout", "10", "--profile", "deep", "--max-time", "600"),
        None,
    ),
    (
        "50 MB chunked bodies, quick profile (every group, default cap)",
        servers.huge_chunked,
        ("--timeout", "10", "--profile", "quick"),
        None,
    ),
    (
        "small answers, quick profile (every group): what the process holds anyway",
        servers.yes_to_everything,
        ("--timeout", "10", "--profile", "quick"),
        None,
    ),
    (
        "key echoed in header names (auth, valid, schemathesis; createImage)",
        servers.echoes_credentials,
        (
            *("--timeout", "5", "--operation", "createImage", "--max-examples", "3"),
            *("--group", "auth", "--group", "valid", "--group", "schemathesis"),
        ),
        None,
    ),
    (
        "Ctrl-C 3 s into schemathesis (yes to everything)",
        servers.yes_to_everything,
        ("--group", "schemathesis", "--max-examples", "200"),
        3.0,
    ),
]


def measure(before: str | None, kill_after: float, only: str | None = None) -> list[str]:
    rows = []
    for title, behaviour, args, sigint in CASES:
        if only is not None and only not in title:
            continue
        with servers.serve(behaviour) as url, tempfile.TemporaryDirectory() as tmp:
            try:
                run = run_check(
                    url,
                    "--seed",
                    "1",
                    *args,
                    out=Path(tmp),
                    kill_after=kill_after,
                    sigint_after=sigint,
                    sigint_when="groups " if sigint is not None else None,
                    env={"PIXELPACT_API_KEY": API_KEY},
                    python_path=before,
                )
            except AssertionError:
                rows.append(f"| {title} | killed after {kill_after:g} s | | | | | |")
                continue
            report = json.loads(run.reports["report.json"]) if "report.json" in run.reports else {}
            verdict, requests = report.get("verdict", "-"), report.get("requests_sent", "-")
            leaks = run.everything().count(API_KEY)
            rows.append(
                f"| {title} | {run.seconds:.1f} s | {run.peak_rss_mb:.0f} MB | {requests} | {run.code} | {verdict} "
                f"| {leaks} |"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--before", metavar="DIR", help="another checkout to measure the same way")
    parser.add_argument("--kill-after", type=float, default=120.0, metavar="SECONDS")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose title contains TEXT")
    args = parser.parse_args()
    header = [
        "| case | ends after | peak RSS | requests | exit | verdict | keys in console + reports |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for label, checkout in (("before", args.before), ("now", None)):
        if label == "before" and checkout is None:
            continue
        print(f"\n{label}:\n" + "\n".join(header + measure(checkout, args.kill_after, args.only)), flush=True)


if __name__ == "__main__":
    main()
