"""Benchmark the start-up of `pixelpact ... --help` (not a timed test): the time a user waits for the options.

Run: .venv/bin/python bench/startup_bench.py [--runs 21] [--pixelpact PATH]

Each figure is the median of --runs runs of the real console script in a fresh process (wall time, and CPU time of
the child). `python -c pass` in the same interpreter is the floor (interpreter and site start-up, including the
editable install's import finder). --pixelpact points at another installation's console script, e.g. a wheel
installed in a clean venv, where no editable finder runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from timing import measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--pixelpact", type=Path, default=Path(sys.executable).with_name("pixelpact"))
    args = parser.parse_args()
    pixelpact = str(args.pixelpact)
    python = str(args.pixelpact.with_name("python"))
    rows = [
        ("`python -c pass` (the floor)", [python, "-c", "pass"]),
        ("`pixelpact --help`", [pixelpact, "--help"]),
        ("`pixelpact check --help`", [pixelpact, "check", "--help"]),
        ("`pixelpact serve --help`", [pixelpact, "serve", "--help"]),
    ]
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, runs: {args.runs}, {pixelpact}")
    print("| command | median wall (s) | median CPU (s) |")
    print("|---|---:|---:|")
    for label, command in rows:
        wall, cpu = measure(command, args.runs)
        print(f"| {label} | {wall:.3f} | {cpu:.3f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
