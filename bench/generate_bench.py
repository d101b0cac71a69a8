"""Benchmark `pixelpact generate --check` (not a timed test): the real spec, and a synthetic spec with 10x operations.

Run: .venv/bin/python bench/generate_bench.py [--runs 7]

Each figure is the median of --runs runs of the real command in a fresh process (wall time, and CPU time of the
process and its children: on a shared machine CPU time is the steadier figure). "cold" runs the whole pipeline
(`--no-cache`: validate, parse, datamodel-code-generator, Jinja, ruff), as on a fresh CI checkout; "warm" is a repeat
run, answered from the content-addressed cache in ~/.cache/pixelpact/generator/. The synthetic spec repeats the real
spec's 9 operations under 10 path prefixes (90 operations); its output is generated once first, so --check compares
equal trees.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from timing import measure

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
PIXELPACT = str(Path(sys.executable).with_name("pixelpact"))


def synthetic_spec(copies: int) -> dict[str, object]:
    """The real spec with every path repeated under /t{i} and every operationId suffixed T{i}."""
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    paths: dict[str, object] = {}
    for index in range(copies):
        for path, item in document["paths"].items():
            copy = yaml.safe_load(yaml.safe_dump(item))
            for operation in copy.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    operation["operationId"] += f"T{index}"
            paths[f"/t{index}{path}"] = copy
    document["paths"] = paths
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "openapi.yaml"
        spec.write_text(yaml.safe_dump(synthetic_spec(10), sort_keys=False), encoding="utf-8")
        out = Path(tmp) / "generated"
        subprocess.run([PIXELPACT, "generate", "--spec", str(spec), "--out", str(out)], check=True, capture_output=True)
        synthetic = ["--spec", str(spec), "--out", str(out)]
        rows = [
            ("real spec (9 operations), cold", [PIXELPACT, "generate", "--check", "--no-cache"]),
            ("real spec (9 operations), warm", [PIXELPACT, "generate", "--check"]),
            ("synthetic spec (90 operations), cold", [PIXELPACT, "generate", "--check", "--no-cache", *synthetic]),
            ("synthetic spec (90 operations), warm", [PIXELPACT, "generate", "--check", *synthetic]),
        ]
        subprocess.run(rows[1][1], cwd=ROOT, check=True, capture_output=True)  # fill the cache for the warm rows
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, runs: {args.runs}")
        print("| `pixelpact generate --check` on | median wall (s) | median CPU (s) |")
        print("|---|---|---|")
        for label, command in rows:
            wall, cpu = measure(command, args.runs, cwd=ROOT)
            print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
